"""Business questions over a semantic layer: parse, compile, guard, run, answer."""
