"""The request path: scope, robots, IP policy, retries, redirects, decompression, dedupe, trap limits, failure rows."""
