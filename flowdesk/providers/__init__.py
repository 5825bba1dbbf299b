"""providers layer (see docs/architecture.md §1)."""
