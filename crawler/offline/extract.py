"""``crawler extract``: the record the spider's parser and the pipelines make of one saved page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scrapy.http import HtmlResponse

from crawler.items import exported_row
from pipelines.chain import default_pipelines, run_pipelines
from pipelines.validate import SchemaValidationPipeline
from spiders.hanweb import build_release_item


def extract_page(body: bytes, url: str, *, portal: str = "demo", content_type: str | None = None,
                 column_names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The record the pipelines make of one saved page, without ``warc`` and ``fetched_at``.

    Schema validation is left to the caller (``pipelines.validate.first_error``): a page checked by hand should
    show its record even when, say, its URL carries no article id.
    """
    headers = {"Content-Type": content_type} if content_type else {}
    response = HtmlResponse(url=url, body=body, headers=headers)
    item = build_release_item(response, portal, column_names or {})
    item.fetched_at = None
    stages = [stage for stage in default_pipelines() if not isinstance(stage, SchemaValidationPipeline)]
    processed = run_pipelines(item, stages)
    if processed is None:
        raise ValueError(f"the pipelines rejected the page from {url}")
    return exported_row(processed)
