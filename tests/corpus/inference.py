import os

import replicate
import together
from anthropic import Anthropic
from huggingface_hub import InferenceClient, login
from openai import OpenAI
from tavily import TavilyClient
from together import Together

# Tokens pasted straight into constructors, as in most leaked notebooks and scripts.
client = OpenAI(api_key="@@openai-project-key@@")
legacy = OpenAI(api_key="@@openai-legacy-key@@")
early_project = OpenAI(api_key="@@openai-project-key|sk-proj-[alnum:20]T3BlbkFJ[alnum:20]@@")
claude = Anthropic(api_key="@@anthropic-api-key@@")
hf = InferenceClient(token="@@huggingface-user-token@@")
login(token="@@huggingface-user-token@@")
rep = replicate.Client(api_token="@@replicate-api-token@@")
tg = Together(api_key="@@together-api-key@@")
tg_legacy = Together(api_key="@@together-legacy-api-key@@")
tg_new_format = Together(api_key="@@together-credential-variable|[alnum:40]@@")
tavily = TavilyClient(api_key="@@tavily-api-key@@")
search = TavilyClient(api_key="@@tavily-api-key-segmented@@")
together.api_key = "@@together-legacy-api-key@@"

# Literal fallbacks: the environment first, a pasted key if it is unset.
groq_key = os.getenv("GROQ_API_KEY", "@@groq-api-key@@")
mistral_key = os.environ.get("MISTRAL_API_KEY", "@@mistral-api-key@@")
os.environ["TAVILY_API_KEY"] = "@@tavily-credential-variable|[alnum:36]@@"
os.environ.setdefault("FIREWORKS_API_KEY", "@@fireworks-api-key@@")

# Look-alikes that must stay quiet.
client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])
tg = Together(api_key=os.getenv("TOGETHER_API_KEY"))
tavily = TavilyClient(api_key="tvly-YOUR_API_KEY")
hf = InferenceClient(token="hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
output = replicate.run("stability-ai/sdxl:@@fill|[hex:64]@@", input={"prompt": "a cat"})
prediction = rep.predictions.get("@@fill|[lowernum:26]@@")
