#!/usr/bin/env bash
# Quick API checks copied from provider docs, with the key pasted in.
curl -s https://api.replicate.com/v1/predictions \
  -H "Authorization: Bearer @@replicate-api-token@@" \
  -d '{"version": "@@fill|[hex:64]@@", "input": {"prompt": "an astronaut"}}'
curl -s -H "Authorization: Token @@replicate-legacy-token@@" \
  https://api.replicate.com/v1/models/stability-ai/sdxl
curl https://api.openai.com/v1/chat/completions -H "Authorization: Bearer @@openai-project-key@@"
curl https://api.anthropic.com/v1/messages -H "x-api-key: @@anthropic-api-key@@" -H "anthropic-version: 2023-06-01"
curl -X POST https://api.stability.ai/v2beta/stable-image/generate/core \
  -H "authorization: Bearer @@stability-api-key@@"
curl -H "Authorization: Api-Key @@baseten-api-key-header@@" \
  https://model-abcd1234.api.baseten.co/production/predict
curl https://api.groq.com/openai/v1/models -H "Authorization: Bearer @@groq-api-key@@"
curl "https://generativelanguage.googleapis.com/v1beta/models?key=@@google-api-key@@"
curl -H "xi-api-key: @@elevenlabs-legacy-api-key@@" https://api.elevenlabs.io/v1/voices
curl -H "Authorization: Key @@fal-api-key@@" https://queue.fal.run/fal-ai/flux/dev
curl -H "Authorization: Key @@clarifai-pat@@" https://api.clarifai.com/v2/users/me
curl https://api.mistral.ai/v1/models -H "Authorization: Bearer @@mistral-api-key@@"
curl -H "Authorization: Bearer @@ai21-api-key@@" https://api.ai21.com/studio/v1/chat/completions
curl -H "Authorization: Bearer @@moonshot-api-key@@" https://api.moonshot.ai/v1/models
curl -H "Authorization: Bearer @@runpod-api-key@@" https://api.runpod.io/graphql
huggingface-cli login --token @@huggingface-user-token@@
python train.py --wandb-api-key @@wandb-credential-variable|[alnum:40]@@ --epochs 3
twine upload -u __token__ -p @@pypi-token@@ dist/*
echo "@@docker-hub-pat@@" | docker login -u mlops --password-stdin
git clone https://oauth2:@@gitlab-pat@@@gitlab.com/team/models.git
# Quiet: variables, placeholders, the docs' own examples
curl -H "Authorization: Bearer $REPLICATE_API_TOKEN" https://api.replicate.com/v1/account
curl -H "Authorization: Bearer ${OPENAI_API_KEY}" https://api.openai.com/v1/models
curl -H "Authorization: Bearer <token>" https://api.together.xyz/v1/models
git checkout @@fill|[hex:40]@@  # pin the replicate/cog version used for the token fix
