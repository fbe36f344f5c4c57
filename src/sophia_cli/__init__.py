"""sophia: operations and insights toolkit for an LLM-based BI platform."""

__version__ = "0.1.0"
