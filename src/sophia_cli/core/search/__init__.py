"""Full-text search over synced text."""
