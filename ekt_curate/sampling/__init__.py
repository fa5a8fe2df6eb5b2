"""Teacher sampling backends: transformers (local GPU/CPU), vLLM (offline engine) and any
OpenAI-compatible completions endpoint (a vLLM/SGLang/TGI cluster)."""
