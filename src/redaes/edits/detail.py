"""detail edit ops."""
