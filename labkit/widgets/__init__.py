"""labkit.widgets (see DESIGN.md)."""
