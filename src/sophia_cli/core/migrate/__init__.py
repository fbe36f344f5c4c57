"""Migrations of a source tree: typed plans shown as diffs, applied atomically, reversible.

Entry points live in `run` (compute_plan, apply_preview, rollback, history, scan_ports).
"""
