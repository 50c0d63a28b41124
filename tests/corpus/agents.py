from langchain_anthropic import ChatAnthropic
from langchain_groq import ChatGroq
from langchain_openai import ChatOpenAI
from llama_parse import LlamaParse
from mem0 import MemoryClient
from e2b import Sandbox
from firecrawl import FirecrawlApp
from qdrant_client import QdrantClient
import weaviate
import chromadb
import comet_ml
import neptune
import stability_sdk

llm = ChatOpenAI(model="gpt-4o", openai_api_key="@@openai-credential-variable|[alnum:40]@@")
claude = ChatAnthropic(model="claude-3-5-sonnet-latest", api_key="@@anthropic-credential-variable|[alnum:40]@@")
fast = ChatGroq(api_key="@@groq-api-key@@")
parser = LlamaParse(api_key="@@llamacloud-credential-variable|[alnum:44]@@")
memory = MemoryClient(api_key="@@mem0-credential-variable|[alnum:40]@@")
sandbox = Sandbox(api_key="@@e2b-credential-variable|[alnum:40]@@")
crawler = FirecrawlApp(api_key="@@firecrawl-credential-variable|[alnum:35]@@")
qdrant = QdrantClient(url="https://xyz.eu-central.aws.cloud.qdrant.io", api_key="@@qdrant-credential-variable|[alnum:40]@@")
auth = weaviate.auth.AuthApiKey(api_key="@@weaviate-credential-variable|[alnum:40]@@")
chroma = chromadb.CloudClient(api_key="@@chroma-credential-variable|[alnum:40]@@", tenant="t")
comet_ml.login(api_key="@@comet-credential-variable|[alnum:25]@@")
run = neptune.init_run(project="team/llm", api_token="@@neptune-credential-variable|[alnum:44]@@")
STABILITY_API_KEY = "@@stability-credential-variable|[alnum:44]@@"
# quiet
llm = ChatOpenAI(model="gpt-4o", openai_api_key=OPENAI_KEY)
qdrant = QdrantClient(url=QDRANT_URL, api_key=QDRANT_API_KEY)
memory = MemoryClient(api_key="your-mem0-api-key")
