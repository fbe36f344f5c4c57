"""The layered environment: parse env files, check them, consolidate them, scan for secrets."""
