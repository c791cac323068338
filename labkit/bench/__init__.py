"""labkit.bench (see DESIGN.md)."""
