"""providers layer (see DESIGN.md §2)."""
