"""Two small apps to read first: ``welcome`` (welcome and audit trail) and ``presence``."""
