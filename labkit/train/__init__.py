"""labkit.train (see DESIGN.md)."""
