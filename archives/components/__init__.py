"""The Scrapy glue of the archive formats: the capture extension, the JSONL export pipeline, the replay handler."""
