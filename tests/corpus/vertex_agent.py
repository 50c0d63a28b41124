import boto3
import dashscope
from azure.ai.inference import ChatCompletionsClient
from azure.core.credentials import AzureKeyCredential
from openai import AzureOpenAI

# Bedrock with keys pasted in
bedrock = boto3.client(
    "bedrock-runtime",
    region_name="us-east-1",
    aws_access_key_id="@@aws-access-key-id@@",
    aws_secret_access_key="@@aws-secret-access-key@@",
)
sagemaker = boto3.Session(aws_secret_access_key="@@aws-secret-access-key|[alnum:40]@@")

dashscope.api_key = "@@dashscope-api-key@@"

azure = AzureOpenAI(
    api_key="@@azure-ai-services-key@@",
    api_version="2024-10-21",
    azure_endpoint="https://contoso-ml.openai.azure.com/",
)
legacy_azure = AzureOpenAI(api_key="@@azure-openai-api-key@@", api_version="2024-02-01")
inference = ChatCompletionsClient(
    endpoint="https://contoso-ml.services.ai.azure.com/models",
    credential=AzureKeyCredential("@@azure-openai-credential-variable|[alnum:32]@@"),
)
# quiet: ids and hashes
deployment = "gpt-4o-@@fill|[lowernum:6]@@"
subscription_id = "@@fill|[hex:8]@@-@@fill|[hex:4]@@-@@fill|[hex:4]@@-@@fill|[hex:4]@@-@@fill|[hex:12]@@"
