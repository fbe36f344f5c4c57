"""Built-in doctor checks, one module per area; every module here is loaded."""
