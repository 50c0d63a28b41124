package main

import (
	"os"

	"github.com/sashabaranov/go-openai"
)

const replicateToken = "@@replicate-api-token@@"

func main() {
	client := openai.NewClient("@@openai-project-key@@")
	anthropicKey := "@@anthropic-api-key@@"
	os.Setenv("HF_TOKEN", "@@huggingface-user-token@@")
	os.Setenv("MISTRAL_API_KEY", "@@mistral-credential-variable|[alnum:40]@@")
	groqKey := os.Getenv("GROQ_API_KEY")
	commit := "@@fill|[hex:40]@@"
	_, _, _, _ = client, anthropicKey, groqKey, commit
}
