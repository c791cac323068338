"""labkit.viz (see DESIGN.md)."""
