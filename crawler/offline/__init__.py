"""The one place that joins spider, pipelines and export without an engine: ``extract`` and ``replay``."""
