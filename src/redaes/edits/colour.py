"""colour edit ops."""
