"""style edit ops."""
