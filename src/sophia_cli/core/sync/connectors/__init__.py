"""Source connectors: one module per API, registered in `registry`."""
