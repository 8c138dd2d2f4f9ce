"""Unit layer: component decisions, each built with ``get_crawler`` and fed hand-made requests and responses, so a
failure points at a line instead of a crawl. (The crawl tests prove the same behaviour end to end.)"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator

from archives.components.capture import WarcCaptureExtension, get_capture
from archives.pointer import WarcPointer
from crawler import meta, wiring
from crawler.fetch import failure_reasons as fr
from crawler.fetch.asset_scope import AssetScopeMiddleware
from crawler.fetch.counter_guard import HitCounterGuardMiddleware
from crawler.fetch.failure_log import FailureLog, FailureLogMiddleware
from crawler.fetch.ip_policy import IpPolicy
from crawler.fetch.offsite import RecordingOffsiteMiddleware
from crawler.fetch.robots import RobotsPolicyMiddleware
from crawler.fetch.trap_limits import HostPageCapMiddleware
from crawler.signals import attachment_skipped

PORTAL = "http://www.example.gov.cn"
PAGE = f"{PORTAL}/art/2016/8/15/art_1229_1.html"


class PortalSpider(Spider):
    name = "portal"
    allowed_domains = ["www.example.gov.cn"]


def crawler_with(settings: dict[str, Any] | None = None) -> Any:
    crawler = get_crawler(PortalSpider, settings)
    crawler.spider = PortalSpider()
    return crawler


# -- failure reasons ---------------------------------------------------------------------------------------------

def test_reasons_are_read_from_the_type_not_the_message() -> None:
    assert fr.classify(fr.HitCounterRefused("anything at all")) == "hit_counter"
    assert fr.classify(fr.RobotsDisallowed("no word of robots here")) == "robots"
    assert fr.classify(IgnoreRequest("Forbidden by robots.txt")) == "ignored"  # a bare Scrapy drop names no reason
    assert fr.classify(DownloadTimeoutError("took too long")) == "timeout"  # Scrapy's own exceptions, by type
    assert fr.offsite_failure(Request(PAGE, meta={"redirect_urls": [PORTAL]})) is fr.OffsiteRedirectRefused


def test_reasons_list_is_derived_from_the_classes() -> None:
    assert set(fr.REASONS) >= {"hit_counter", "robots", "robots_unavailable", "offsite", "offsite_redirect",
                               "ip_refused", "host_page_cap", "redirect_loop", "content_decoding", "timeout", "error"}
    assert len(fr.REASONS) == len(set(fr.REASONS))


def test_a_refused_request_gets_its_failure_row_with_the_old_detail(tmp_path: Path) -> None:
    crawler = crawler_with({"EXTENSIONS": {"crawler.fetch.failure_log.FailureLog": 50},
                            "FAILURES_OUTPUT_PATH": str(tmp_path / "failures.jsonl")})
    log = crawler.get_extension(FailureLog)
    assert log is not None
    log.spider_opened()
    request = Request(f"{PORTAL}/module/visitcount/visit.jsp?i=1")
    with pytest.raises(fr.HitCounterRefused) as refused:
        HitCounterGuardMiddleware(crawler).process_request(request)
    FailureLogMiddleware(crawler).process_exception(request, refused.value)
    (row,) = log.pending
    assert (row["reason"], row["detail"]) == ("hit_counter", f"IgnoreRequest: hit counter not fetched: {request.url}")
    log.spider_closed()
    assert crawler.stats.get_value("failures/hit_counter") == 1


def test_offsite_is_typed_by_the_request_it_refuses() -> None:
    crawler = crawler_with()
    middleware = RecordingOffsiteMiddleware.from_crawler(crawler)
    middleware.spider_opened(crawler.spider)
    with pytest.raises(fr.OffsiteRefused) as link:
        middleware.process_request(Request("http://elsewhere.example.com/"))
    with pytest.raises(fr.OffsiteRedirectRefused):
        middleware.process_request(Request("http://elsewhere.example.com/", meta={"redirect_urls": [PAGE]}))
    assert fr.classify(link.value) == "offsite"
    assert str(link.value) == "Filtered offsite request to 'elsewhere.example.com'"


# -- IP policy, asset scope, trap limit ---------------------------------------------------------------------------

def test_ip_policy_decisions() -> None:
    policy = IpPolicy(["127.0.0.1:8000", "10.1.0.0/16"])
    assert policy.allows("127.0.0.1", 8000)
    assert not policy.allows("127.0.0.1", 8001)
    assert policy.allows("10.1.2.3")
    assert "ARCHIVER_ALLOWED_IPS" in (policy.refusal("10.2.0.1") or "")
    assert not policy.allows("::ffff:192.168.0.1")  # an IPv4-mapped private address stays private
    assert policy.allows("93.184.216.34")


def test_asset_scope_lets_archive_only_requests_reach_asset_hosts_only() -> None:
    crawler = crawler_with({"PORTAL_ASSET_HOSTS": "oss.example.gov.cn"})
    middleware = AssetScopeMiddleware.from_crawler(crawler)
    asset = {meta.ASSET: "attachment", "allow_offsite": True}
    assert middleware.process_request(Request("http://oss.example.gov.cn/a.pdf", meta=asset)) is None
    assert middleware.process_request(Request(f"{PORTAL}/a.pdf", meta=asset)) is None
    with pytest.raises(IgnoreRequest):
        middleware.process_request(Request("http://cdn.elsewhere.com/a.pdf", meta=dict(asset)))
    robots = Request("http://oss.example.gov.cn/robots.txt")
    middleware.process_request(robots)
    assert robots.meta.get("allow_offsite") is True
    assert crawler.stats.get_value("assets/out_of_scope") == 1


def test_settings_defaults_come_from_the_settings_module() -> None:
    crawler = crawler_with()  # no project settings: only Scrapy's defaults
    assert HostPageCapMiddleware(crawler).cap == 1_000_000 == wiring.default("TRAP_MAX_PAGES_PER_HOST")
    assert crawler_with({"TRAP_MAX_PAGES_PER_HOST": 2}).settings.getint("TRAP_MAX_PAGES_PER_HOST") == 2
    with pytest.raises(KeyError):
        wiring.default("NO_SUCH_SETTING")


# -- robots.txt 5xx ----------------------------------------------------------------------------------------------

def test_robots_5xx_disallows_the_host_for_a_while() -> None:
    now = [100.0]
    crawler = crawler_with({"ROBOTSTXT_OBEY": True, "ROBOTSTXT_UNAVAILABLE_TTL": 30})
    middleware = RobotsPolicyMiddleware(crawler, clock=lambda: now[0])
    robots_url = f"{PORTAL}/robots.txt"
    answer = Response(robots_url, status=503, request=Request(robots_url))
    asyncio.run(middleware._parse_robots(answer, "www.example.gov.cn", Request(robots_url)))
    parser = middleware._parsers["www.example.gov.cn"]
    with pytest.raises(fr.RobotsUnavailable) as refused:
        middleware.process_request_2(parser, Request(PAGE))
    assert fr.classify(refused.value) == "robots_unavailable"
    assert middleware._retry_at["www.example.gov.cn"] == 130.0


# -- the capture pointer in meta, skip records by signal ---------------------------------------------------------

@pytest.fixture
def capture(tmp_path: Path) -> Any:
    crawler = crawler_with({"EXTENSIONS": {"archives.components.capture.WarcCaptureExtension": 100},
                            "WARC_OUTPUT_DIR": str(tmp_path / "warc"), "WARC_CRAWLHOST": "unit"})
    ext = get_capture(crawler)
    assert isinstance(ext, WarcCaptureExtension)
    ext.spider_opened()
    yield crawler, ext
    asyncio.run(ext.spider_closed("finished"))


def test_the_capture_pointer_is_handed_over_in_meta(capture: Any) -> None:
    crawler, ext = capture
    request = Request(PAGE, meta={meta.WARC: "a pointer copied from a redirect parent"})
    response = HtmlResponse(PAGE, body=b"<html><title>t</title></html>", headers={"Content-Type": "text/html"},
                            request=request)
    ext.response_downloaded(response, request)
    pointer = meta.capture_pointer(response)
    assert isinstance(pointer, WarcPointer) and pointer.url == PAGE and pointer.revisit is None
    assert list(pointer.row()) == ["filename", "offset", "length", "record_id", "payload_digest"]
    assert list(pointer.location()) == ["filename", "offset", "length", "record_id"]
    # a redirect or retry copies meta: the pointer does not count for another URL
    assert meta.pointer_in(request.meta, PAGE + "?moved") is None
    assert crawler.stats.get_value("warc/records") == 2


def test_a_skip_signal_becomes_a_metadata_record(capture: Any, tmp_path: Path) -> None:
    crawler, ext = capture
    crawler.signals.send_catch_log(attachment_skipped, url=f"{PORTAL}/big.pdf",
                                   fields={"skipped": "size-limit", "reason": "too big", "content-type": None})
    asyncio.run(ext.spider_closed("finished"))
    (warc,) = (tmp_path / "warc").glob("*.warc.gz")
    with warc.open("rb") as handle:
        records = [(r.rec_type, r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read())
                   for r in ArchiveIterator(handle)]
    assert ("metadata", f"{PORTAL}/big.pdf", b"skipped: size-limit\r\nreason: too big\r\n") in records
