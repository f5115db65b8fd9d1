"""Package data of Maillage (see DESIGN.md)."""
