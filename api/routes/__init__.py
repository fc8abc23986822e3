"""HTTP routes of the collaboration server, one module per concern."""
