"""`sophia sync`: pull Slack, Asana, HubSpot and Gong into the PostgreSQL warehouse.

Connectors (`connectors/`) fetch pages over HTTP; the engine loads each page through a
staging table and advances the stream's bookmark in the same transaction, so a run killed
at any moment loses and duplicates nothing.
"""
