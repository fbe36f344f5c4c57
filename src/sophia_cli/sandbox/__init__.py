"""The sandbox: a fake company and its fake Slack, Asana, HubSpot and Gong APIs.

A test double and a demo, not logic the two faces share, so it lives beside `core/`.
The dataset, its state and mutations are here; `sandbox.api` is its HTTP face.
"""
