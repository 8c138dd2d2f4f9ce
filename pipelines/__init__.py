"""Item pipelines: pure transforms of release items through itemadapter."""

EXTRACTOR_VERSION = "hanweb-extract/1.0.1"
