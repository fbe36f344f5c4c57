"""Find hard-coded secrets in a code tree: rules, entropy, baseline and SARIF."""
