"""flowdesk: a desktop builder and runner for multi-step (LLM / agentic) workflows."""

from time import perf_counter as _perf_counter

__version__ = "0.1.0"

IMPORTED_AT = _perf_counter()
"""When the first of flowdesk's code ran (this import): where the app's start-up probe starts its clock."""
