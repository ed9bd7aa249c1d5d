"""tone edit ops."""
