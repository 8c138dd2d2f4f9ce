"""Item pipelines: pure transforms of release items through itemadapter."""

EXTRACTOR_VERSION = "hanweb-extract/2.0.1"
