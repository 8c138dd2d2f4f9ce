"""Helpers of the test suite: crawl runners, fault and HTTP servers, invariants, test spiders."""
