"""Run-to-run crawling: registry, schedule, lock, state, conditional requests, events (docs/recurring.md)."""
