"""The squad: cheapest-capable LLM routing with fallbacks, a daily budget and a cache."""
