"""engine layer (see docs/architecture.md §1)."""
