import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import Replicate from "replicate";
import { Pinecone } from "@pinecone-database/pinecone";
import { tavily } from "@tavily/core";

const openai = new OpenAI({ apiKey: "@@openai-project-key@@" });
const anthropic = new Anthropic({ apiKey: "@@anthropic-api-key@@" });
const replicate = new Replicate({ auth: "@@replicate-api-token@@" });
const pinecone = new Pinecone({ apiKey: "@@pinecone-credential-variable|[alnum:40]@@" });
const tvly = tavily({ apiKey: "@@tavily-api-key@@" });
const groqKey: string = "@@groq-api-key@@";
const xaiKey = process.env.XAI_API_KEY ?? "@@xai-api-key@@";
const together = new Together({ apiKey: "@@together-credential-variable|[alnum:40]@@" });
// quiet
const key = process.env.OPENAI_API_KEY!;
const fallback = process.env.TAVILY_API_KEY || "tvly-YOUR_API_KEY";
const modelVersion = "@@fill|[hex:64]@@";
