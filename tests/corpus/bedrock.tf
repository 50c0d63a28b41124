provider "aws" {
  region     = "us-west-2"
  access_key = "@@aws-access-key-id@@"
  secret_key = "@@aws-secret-access-key-pair@@"
}

resource "databricks_token" "pat" {
  comment = "ml pipeline"
}

variable "databricks_token" {
  default = "@@databricks-token@@"
}

locals {
  openai_api_key = "@@openai-credential-variable|[alnum:48]@@"
}

variable "hf_token" {
  sensitive = true
}
