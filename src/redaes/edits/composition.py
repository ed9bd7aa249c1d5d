"""composition edit ops."""
