"""labkit.explain (see DESIGN.md)."""
