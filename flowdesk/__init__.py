"""flowdesk: a desktop builder and runner for multi-step (LLM / agentic) workflows."""

__version__ = "0.1.0"
