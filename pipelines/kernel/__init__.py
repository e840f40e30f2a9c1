"""The LLM kernel: language-model backends and the conversation they run."""
