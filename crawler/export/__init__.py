"""Exports of crawl outputs for researchers: typed Parquet, CSV and JSONL tables, the dataset card."""
