"""labkit.data (see DESIGN.md)."""
