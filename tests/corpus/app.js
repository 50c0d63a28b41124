const Groq = require("groq-sdk");
const groq = new Groq({ apiKey: "@@groq-credential-variable|[alnum:40]@@" });
const ELEVENLABS_API_KEY = "@@elevenlabs-api-key@@";
const DEEPGRAM_API_KEY = "@@deepgram-credential-variable|[alnum:36]@@";
const fal_key = "@@fal-api-key@@"; // fal.ai
const HF_TOKEN = "@@huggingface-user-token@@";
const headers = { Authorization: `Bearer @@openrouter-api-key@@` };
const assembly = new AssemblyAI({ apiKey: "@@assemblyai-credential-variable|[alnum:32]@@" });
// quiet
const client = new Groq({ apiKey: process.env.GROQ_API_KEY });
const placeholder = "gsk_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
