"""artefact edit ops."""
