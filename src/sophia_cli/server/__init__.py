"""The HTTP face of sophia (FastAPI); imported only by `sophia serve` and tests."""

# Variables `sophia serve` sets for its worker processes, which load settings themselves.
ENV_FILE_VARIABLE = "SOPHIA_SERVE_ENV_FILE"
DIRECTORY_VARIABLE = "SOPHIA_SERVE_DIR"
LEGACY_PORT_VARIABLE = "SOPHIA_SERVE_LEGACY_PORT"
