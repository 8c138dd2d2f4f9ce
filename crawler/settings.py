"""Every setting of the archiver, with its default and why. Grouped and prefixed by feature.

Scrapy settings come first (as this project needs them), then the project's own groups: ARCHIVER_*, WARC_*,
JSONL_*, PROGRESS_*. Any of them can be overridden per run with ``-s NAME=VALUE`` or by the ``crawler`` command.
This module is the one source of the project settings' defaults: components read them through ``crawler.wiring``,
which falls back to the values here when a crawler was built without the project settings.
"""

import scrapy.settings.default_settings as scrapy_defaults

# -- Identity -------------------------------------------------------------------------------------------------
BOT_NAME = "district-portal-archiver"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
#: Where portal operators can reach the archive's operators; goes into the User-Agent and the warcinfo record.
ARCHIVER_CONTACT_URL = "https://github.com/district-portal-archiver/archiver"
#: Who runs the crawl; goes into every warcinfo record.
ARCHIVER_OPERATOR = "district-portal-archiver operators"
USER_AGENT = f"district-portal-archiver/0.1 (web archive; +{ARCHIVER_CONTACT_URL})"

# -- Scrapy runtime -------------------------------------------------------------------------------------------
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"  # the default; explicit on purpose
TELNETCONSOLE_ENABLED = False  # an open console has no place on an archive host
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19's default-on /execute endpoint: off (and not loaded: EXTENSIONS_BASE)
LOG_LEVEL = "INFO"
#: Skips building the per-page DEBUG lines ("Crawled (200)", "Scraped from") when no log handler takes DEBUG.
LOG_FORMATTER = "crawler.log_formatter.QuietLogFormatter"
FEED_EXPORT_ENCODING = "utf-8"
#: Scrapy re-reads and re-parses a generator callback's source for every response when the callback is a bound method
#: (its cache holds callables weakly, and a bound method is a new object each time): 0.85% of a crawl's CPU.
#: tests/test_spider_callbacks.py runs the same check over every spider callback instead.
WARN_ON_GENERATOR_RETURN_VALUE = False
#: Pipelines are synchronous and cheap; one item at a time avoids Scrapy 2.19 starting many workers per response.
CONCURRENT_ITEMS = 1

# -- Politeness (portals are public services; loopback demo runs lift these per run) ------------------------
ROBOTSTXT_OBEY = True
#: Seconds a host stays disallowed after its robots.txt answered 5xx or could not be fetched; then it is re-fetched.
ROBOTSTXT_UNAVAILABLE_TTL = 60.0
DOWNLOAD_DELAY = 1.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_TIMEOUT = 60
RETRY_TIMES = 2
#: Longest Retry-After (seconds) a retry waits for; it delays that one request, never its host or the crawl. A
#: longer one makes the 429/503 final: a failure row http_<status> saying so (stat retry/retry_after_too_long).
RETRY_AFTER_MAX = 60.0
#: Keep a body cut short (reset mid-body, broken chunking) flagged "dataloss": it is archived with
#: WARC-Truncated: disconnect and retried (crawler.fetch.retry_policy); never extracted into a release row.
DOWNLOAD_FAIL_ON_DATALOSS = False
#: Crawler traps (infinite calendars, session-id variants, path loops): link depth from the start URL and requests
#: per host. Depth counts navigation hops (home -> column -> sub-column is 2; paging a column's list is no hop); a
#: release is archived whatever its depth, its attachments and requisites past the limit are skipped with reason
#: depth_limit; other pages past it are not followed, counted in depth/request_ignored_count
#: (crawler.fetch.link_limits.ArchivalDepthMiddleware, in place of Scrapy's DepthMiddleware).
DEPTH_LIMIT = 8
TRAP_MAX_PAGES_PER_HOST = 1_000_000
#: Requests one list widget may make (every form together) before its walk stops as truncated: a trap cap, never a
#: plan (lists are paged until an empty page or pages of records seen before); hit, it is counted
#: (``lists/truncated/<column>``), logged, and the run is incomplete. 2000 pages of 45 records is 90,000 releases.
LIST_MAX_PAGES_PER_WIDGET = 2000
#: Dedupe key without ;jsessionid=-style path parameters (the URL fetched and archived keeps them).
REQUEST_FINGERPRINTER_CLASS = "crawler.fetch.trap_limits.SessionlessRequestFingerprinter"
#: Seen-set of 8 bytes per request instead of Scrapy's ~90 (0.8 MB instead of 5.2 MB for 57,000 requests), so memory
#: stays flat as portals grow (docs/benchmarks.md); JOBDIR's requests.seen keeps working.
DUPEFILTER_CLASS = "crawler.fetch.seen_filter.CompactDupeFilter"
#: Longest URL requested (crawler.fetch.link_limits.ArchivalUrlLengthMiddleware, in place of Scrapy's): a longer
#: release URL is a failure row url_too_long, a longer attachment is listed with skip_reason url_too_long, another
#: page is not followed (urllength/request_ignored_count).
URLLENGTH_LIMIT = 2083
#: Distinct query strings per page path and column, paging parameters aside (a ?t=<n> cache-buster new on every
#: answer would otherwise fan out without end); later ones are not followed (links/query_variants_dropped).
LINKS_MAX_QUERY_VARIANTS = 10
#: The cookie jar, bounded as browsers bound it (RFC 6265 5.3 asks for at least 50 cookies per domain and 4096
#: bytes per cookie): the oldest cookie of a host beyond the count is forgotten (cookies/evicted), a larger
#: cookie is refused (cookies/too_large), and a Cookie header is cut to COOKIES_MAX_HEADER_BYTES, newest cookies
#: first (cookies/header_trimmed), so request heads stay under what servers accept (nginx refuses over 8 KiB).
COOKIES_MAX_PER_HOST = 50
COOKIES_MAX_SIZE = 4096
COOKIES_MAX_HEADER_BYTES = 4096
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
    # No br/zstd: warcio and pywb cannot decode them reliably, and the WARC keeps bodies as received.
    "Accept-Encoding": "gzip, deflate",
}

# -- Components -----------------------------------------------------------------------------------------------
#: Scrapy's base extensions without its remote-control endpoint (off: REMOTE_CONTROL_ENABLED). Scrapy imports every
#: component named in EXTENSIONS_BASE and EXTENSIONS, even one set to None, and that module imports aiohttp only to
#: refuse to run: about 0.15 s of CPU at every start.
EXTENSIONS_BASE = {path: order for path, order in scrapy_defaults.EXTENSIONS_BASE.items()
                   if path != "scrapy.extensions.remote_control.RemoteControl"}
DOWNLOADER_MIDDLEWARES = {
    # Drops any request to a hit counter (visit.jsp, articlehits.jsp, artcount.jsp): each fetch inflates it.
    "crawler.fetch.counter_guard.HitCounterGuardMiddleware": 50,
    # Attachments and requisites (and the robots.txt of an asset host) may go to PORTAL_ASSET_HOSTS, past
    # OffsiteMiddleware (50), and nowhere else: before it, so it sees their allow_offsite.
    "crawler.fetch.asset_scope.AssetScopeMiddleware": 45,
    # A connection the IP policy refused fails for good (ip_refused), before RetryMiddleware (550) sees it.
    "crawler.fetch.ip_policy.IpPolicyMiddleware": 560,
    # Scrapy's offsite filter (redirects included), writing offsite / offsite_redirect failure rows.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawler.fetch.offsite.RecordingOffsiteMiddleware": 50,
    # robots.txt per RFC 9309: 4xx allows all, 5xx or unreachable disallows the host for now (not cached).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.fetch.robots.RobotsPolicyMiddleware": 100,
    # Writes a failure row (failures.jsonl) for every request that ends in an exception or a 4xx/5xx; closest to
    # the engine, so it sees final outcomes only (after retries and redirects).
    "crawler.fetch.failure_log.FailureLogMiddleware": 10,
    # Scrapy's redirect/meta-refresh/compression/retry middlewares at their usual places, recording what they drop
    # (redirect_loop, redirect_scheme, content_decoding, maxsize) and honouring Retry-After (RETRY_AFTER_MAX).
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.fetch.redirects.RecordingRedirectMiddleware": 600,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.fetch.redirects.RecordingMetaRefreshMiddleware": 580,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.fetch.decompression.RecordingHttpCompressionMiddleware": 590,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.fetch.retry_policy.ArchivalRetryMiddleware": 550,
    # Retries a body cut short (flag "dataloss"; archived with WARC-Truncated: disconnect), before decompression.
    "crawler.fetch.retry_policy.DatalossRetryMiddleware": 595,
    # Logs the certificate of every https response (fingerprint, self-signed, expired) to the archived crawl log.
    "crawler.fetch.tls_audit.TlsAuditMiddleware": 20,
    # Crawler traps: at most TRAP_MAX_PAGES_PER_HOST requests per host (DEPTH_LIMIT caps the depth).
    "crawler.fetch.trap_limits.HostPageCapMiddleware": 40,
    # Recurring crawls: If-None-Match/If-Modified-Since for known releases whose original is archived; a 304
    # (written as a revisit) and a 404/410 to a removal check end here, before FailureLogMiddleware (10).
    "crawler.recurring.conditional.ConditionalRequestMiddleware": 70,
    # Queue workers: wait for the request's slot in the per-host rate shared by all workers (Redis); last before
    # the download, so only requests really sent take a slot (docs/scaleout.md; off unless the worker turns it on).
    "crawler.scaleout.ratelimit.SharedRateLimitMiddleware": 950,
    # A release URL that answers without a release (a redirect to mailto: or to the home page or a column, 204, an
    # unsolicited 304, a meta refresh to javascript:, the CMS's not-found page served with 200) is a failure row
    # (or a removal of a known release), never a release row: redirects before RedirectMiddleware (600), the rest
    # after decompression (590) and before MetaRefreshMiddleware (580).
    "crawler.fetch.release_checks.ReleaseRedirectCheckMiddleware": 610,
    "crawler.fetch.release_checks.ReleaseAnswerCheckMiddleware": 585,
    # The cookie jar bounded per host, per cookie and per Cookie header (COOKIES_MAX_*), at Scrapy's place.
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware": None,
    "crawler.fetch.cookie_limits.BoundedCookiesMiddleware": 700,
}
SPIDER_MIDDLEWARES = {
    # Depth and URL length that never drop a release silently, at Scrapy's places (crawler.fetch.link_limits).
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "crawler.fetch.link_limits.ArchivalDepthMiddleware": 900,
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "crawler.fetch.link_limits.ArchivalUrlLengthMiddleware": 800,
    # At most LINKS_MAX_QUERY_VARIANTS query strings per page path (?t=<n> cache-busters).
    "crawler.fetch.link_limits.QueryVariantMiddleware": 850,
    # The accounting of every release URL (crawler.report.ledger): enters each release request the spider yields,
    # next to the spider, before any filter below can drop it.
    "crawler.report.ledger.LedgerSpiderMiddleware": 960,
    # Recurring crawls: counts listed releases; drops requests for releases too old to re-check or already
    # archived by the interrupted run being resumed (docs/recurring.md).
    "crawler.recurring.skip.ReleaseSkipMiddleware": 950,
}
EXTENSIONS = {
    "crawler.fetch.offline_psl.BundledPublicSuffixList": 0,
    # Follows every release URL to its outcome; at close writes a failure row for each that reached none (before
    # the failure log closes).
    "crawler.report.ledger.ReleaseLedger": 40,
    # Owns failures.jsonl (FAILURES_OUTPUT_PATH), where failure rows are written.
    "crawler.fetch.failure_log.FailureLog": 50,
    "archives.components.capture.WarcCaptureExtension": 100,
    # The verdict (complete / incomplete / failed ...) and report.json + report.html, once the WARC is closed and
    # before the recurring run record is written.
    "crawler.report.extension.RunReportExtension": 120,
    # datapackage.json + README.md beside releases.jsonl, after report.json (its verdict and start URLs).
    "crawler.export.extension.DatasetCardExtension": 130,
    # Recurring crawls: portal lock, crawl state, run record, removal checks, events (after capture: it closes
    # the WARC first and its sync() is used for checkpoints).
    "crawler.recurring.controller.RecurringExtension": 150,
    "crawler.progress.ProgressExtension": 900,
}
#: The end-of-crawl stats dump in crawl.log is JSON (crawler report OUT reads it back).
STATS_CLASS = "crawler.report.stats_dump.JsonStatsCollector"
ITEM_PIPELINES = {
    "pipelines.boilerplate.BoilerplatePipeline": 100,
    "pipelines.dates.ReleaseDatePipeline": 200,
    "pipelines.hits.HitsPipeline": 300,
    "pipelines.validate.SchemaValidationPipeline": 800,
    # Recurring crawls: a known release with the same content fingerprint makes no new row (hits -> event).
    "crawler.recurring.pipeline.RecurringPipeline": 850,
    "archives.components.jsonl_export.JsonlExportPipeline": 900,
}

# -- Network safety (RELIABILITY 2.7) ---------------------------------------------------------------------------
#: Resolves names through Scrapy's caching resolver, then refuses non-public addresses at connect time (every hop,
#: redirects included) and pins each host name to its first allowed answer (DNS rebinding).
TWISTED_DNS_RESOLVER = "crawler.fetch.ip_policy.IpPolicyResolver"
#: Non-public addresses a crawl may still connect to: "10.1.2.3", "10.0.0.0/8" or "127.0.0.1:8000" (address:port).
#: Empty: only globally routable addresses. Tests and the demo allow their loopback server explicitly.
ARCHIVER_ALLOWED_IPS: list[str] = []
#: Keep using the first allowed addresses of a host name for the whole crawl (no re-resolution to a new address).
ARCHIVER_PIN_DNS = True

# -- Portal ---------------------------------------------------------------------------------------------------
#: The portal id that prefixes every release_id ("demo:12345").
PORTAL_ID = "demo"
#: The id of this run (warcinfo, failure rows, report.json, the run record); empty: made when the crawl starts
#: (``20250106T093000Z-3fa9c1``). The ``crawler`` command sets it.
RUN_ID = ""
#: Other host names that serve this portal's files (Zhejiang portals keep attachments on a provincial object store,
#: e.g. "zjjcmspublic.oss-cn-hangzhou-zwynet-d01-a.internet.cloud.zj.gov.cn"). Exact names, no port; a list or a
#: comma-separated string. Only attachments and page requisites may be fetched from them (one hop, nothing is
#: followed from them); release and list links to them stay offsite. The IP policy applies to them as to any host.
PORTAL_ASSET_HOSTS: list[str] = []

# -- Attachments (files linked from a release body: pdf, doc, xls, ..., downfile.jsp) --------------------------
#: Fetch and archive attachments; each release row waits until its attachments are archived or skipped.
ATTACHMENTS_ENABLED = True
#: Largest attachment archived (bytes, as transferred and as decoded). A larger one is cancelled (nothing of it is
#: written to WARC) and listed with warc=null; a WARC metadata record says why (docs/schema.md).
ATTACHMENTS_MAX_SIZE = 100 * 1024 * 1024
#: How many attachment URLs the crawl remembers, so a file linked from several releases is fetched once and its
#: pointer reused (least recently used forgotten first). They are kept in a temporary SQLite file (about 300 bytes
#: of disk each), only the latest 1,024 in memory (spiders/attachment_memory.py).
ATTACHMENTS_MEMORY = 200_000

# -- Page requisites (the images, stylesheets and scripts a release page loads) --------------------------------
#: Archive them so a release replays as it looked; off gives a text-only archive (attachments are separate).
REQUISITES_ENABLED = True
#: Largest requisite archived (bytes); a larger one is cancelled and not archived.
REQUISITES_MAX_SIZE = 16 * 1024 * 1024
#: Requisites requested per release page at most (page order); the rest are counted (requisites/over_page_limit).
REQUISITES_MAX_PER_PAGE = 100

# -- WARC -----------------------------------------------------------------------------------------------------
WARC_ENABLED = True
#: Directory for the WARC files (created if missing).
WARC_OUTPUT_DIR = "output/warc"
#: First part of every file name: {prefix}-{timestamp}-{serial}-{crawlhost}.warc.gz
WARC_PREFIX = "crawl"
#: Rotate to a new file once the current one passes this many bytes (WARC Annex C suggests about 1 GB).
WARC_MAX_SIZE = 1_000_000_000
#: Seconds between fsyncs of the open WARC; JSONL rows wait for the fsync that covers their record.
WARC_FSYNC_INTERVAL = 1.0
#: warcinfo "operator"; defaults to ARCHIVER_OPERATOR.
WARC_OPERATOR = ARCHIVER_OPERATOR
#: Host part of WARC file names (WARC Annex C); empty means this machine's hostname.
WARC_CRAWLHOST = ""
#: Level and size cap of the crawl log that is stored in the WARC as a resource record at close.
WARC_CRAWL_LOG_LEVEL = "INFO"
WARC_CRAWL_LOG_MAX_BYTES = 64 * 1024 * 1024

# -- JSON Lines -----------------------------------------------------------------------------------------------
#: Failure rows (one per request the crawl gave up on, with a machine-readable reason); empty turns them off.
FAILURES_OUTPUT_PATH = "output/failures.jsonl"
#: Lowest HTTP status that makes a final response a failure row.
FAILURES_LOG_HTTP_STATUS = 400
JSONL_OUTPUT_PATH = "output/releases.jsonl"
JSONL_FSYNC_INTERVAL = 1.0
#: The item field holding the WARC pointer; rows without one are dropped unless JSONL_REQUIRE_WARC is off.
JSONL_WARC_FIELD = "warc"
JSONL_REQUIRE_WARC = True

# -- Portal registry and crawl state (docs/recurring.md) ----------------------------------------------------------
#: The portal registry read by `crawler portals|due|run-due` and `crawler crawl --portal ID` (--portals overrides).
PORTAL_REGISTRY = "portals.toml"
#: Directory of the per-portal lock files ({portal}.lock); empty means the directory of JSONL_OUTPUT_PATH.
PORTAL_LOCK_DIR = ""
#: The SQLite crawl state (runs, releases); empty means state.sqlite beside JSONL_OUTPUT_PATH.
STATE_PATH = ""

# -- Recurring crawls (docs/recurring.md) ------------------------------------------------------------------------
#: Conditional re-requests, revisits, removal checks, events and the portal lock. Off = every run is a fresh crawl.
RECURRING_ENABLED = True
#: The events JSONL (hits changed, release changed, release removed); empty means events.jsonl beside the JSONL.
RECURRING_EVENTS_PATH = ""
#: Releases whose printed date (else first-seen date) is at most this many days old are re-requested conditionally;
#: older ones are not requested. A portal's registry entry (refresh_window) sets it per portal.
RECURRING_REFRESH_WINDOW_DAYS = 30.0
#: Re-request every known release conditionally, whatever its age (`crawler crawl --refresh`).
RECURRING_REFRESH = False
#: Seconds between checkpoints of the crawl state (and writes of the events file).
RECURRING_FLUSH_INTERVAL = 1.0
#: Re-request, once the crawl is idle, the known releases no list showed; 404/410 records a removal.
RECURRING_REMOVAL_CHECKS = True
#: At most this many removal checks per run (a broken list parser would otherwise re-request everything).
RECURRING_REMOVAL_CHECK_MAX = 1000
#: Flag the run when it lists fewer releases than (1 - this) x the portal's previous finished run.
RECURRING_DROP_THRESHOLD = 0.5
#: Flag the run when the share of items with a title/release_date/body_text/source falls by more than this.
RECURRING_COVERAGE_DROP = 0.3
#: Coverage is compared only when both runs extracted at least this many items.
RECURRING_COVERAGE_MIN_ITEMS = 20
#: Set by `crawler run-due`: the portal's last run id when it was found due; another run since then means not due.
#: -1 switches the check off.
RECURRING_EXPECT_LAST_RUN = -1
#: Recover `.open` WARC files no live process holds, in WARC_OUTPUT_DIR, when the spider opens.
RECURRING_RECOVER_AT_START = True

# -- Many machines: the portal-run queue (docs/scaleout.md) ---------------------------------------------------
#: Prefix of every Redis key and queue of the cluster (several archives can share one Redis).
SCALEOUT_NAMESPACE = "archiver"
#: This machine's name: its queue is runs-{machine}, and the portals assigned to it stay on it (their directory
#: and state are on its disk). Empty: the host name. `crawler worker --machine` overrides it.
SCALEOUT_MACHINE = ""
#: Seconds between a worker's heartbeats; each also requeues the jobs of dead workers of its machine's queue.
SCALEOUT_HEARTBEAT_INTERVAL = 5.0
#: A worker whose last heartbeat is older than this is dead and its job goes back on the queue: within
#: TIMEOUT + INTERVAL (35 s; at most 120 s is accepted) of its death.
SCALEOUT_HEARTBEAT_TIMEOUT = 30.0
#: Seconds a portal lease lives without renewal (renewed every TTL/4 while the crawl runs). Below TIMEOUT -
#: INTERVAL, so a dead worker's lease has expired when its job comes back.
SCALEOUT_LEASE_TTL = 20.0
#: Deliveries of one job at most: retries of a failed crawl and redeliveries after a dead worker together.
SCALEOUT_MAX_ATTEMPTS = 4
#: Seconds before the first retry of a failed crawl (doubling, with jitter, up to SCALEOUT_RETRY_BACKOFF_MAX).
SCALEOUT_RETRY_BACKOFF = 60.0
SCALEOUT_RETRY_BACKOFF_MAX = 3600.0
#: Longest a job may run before Dramatiq stops it: far above the longest crawl (100,000 requests at 1/s is 28 h).
SCALEOUT_JOB_TIME_LIMIT = 259200.0
#: Seconds a crawl gets to close cleanly (SIGTERM) when its worker stops or loses the lease, before SIGKILL.
SCALEOUT_SHUTDOWN_GRACE = 30.0
#: Set by the worker for each crawl: the portal lease's fencing token, recorded in and checked by the state
#: (crawler/recurring/fencing.py). -1: not a queue run, no fence.
SCALEOUT_FENCING_TOKEN = -1
#: Set by the worker for its crawls: wait for each request's slot in the per-host rate shared in Redis (the URL
#: comes from the environment variable ARCHIVER_REDIS_URL), so all workers together keep the portal's delay.
SCALEOUT_RATE_LIMIT_ENABLED = False
# -- Report (docs/report.md) -----------------------------------------------------------------------------------
#: Write report.json and report.html (the verdict, the accounting, the plots) at the end of every run.
REPORT_ENABLED = True
#: Where they go; empty means beside JSONL_OUTPUT_PATH.
REPORT_DIR = ""
#: Draw report.html's plots (matplotlib, about a second a run); off leaves the page its figures and tables only
#: (the test suite's many small fault crawls switch them off; `crawler report OUT` always draws them).
REPORT_PLOTS = True

# -- Dataset card (docs/loading.md) -------------------------------------------------------------------------------
#: Write datapackage.json (Frictionless Data Package) and README.md beside releases.jsonl at the end of every run.
DATASET_CARD_ENABLED = True
#: The licence/terms note the operator gives the data (quoted in both files); empty: "no terms set".
DATASET_TERMS = ""
#: A licence id (e.g. "CC-BY-4.0") or a licence URL for datapackage.json's "licenses"; empty: none stated.
DATASET_LICENSE = ""

# -- Progress -------------------------------------------------------------------------------------------------
#: Show a live progress line on a terminal (never when stderr is not a terminal).
PROGRESS_ENABLED = True
PROGRESS_INTERVAL = 1.0

# -- Many crawls in one process (crawler crawl-batch, run by run-due; docs/recurring.md) -----------------------
#: The fsyncs a second a crawl-batch process allows itself over all its crawls. Each crawl fsyncs its WARC, its
#: JSONL and its state checkpoint every second by default, and an fsync blocks the reactor (milliseconds on a
#: busy disk): 150 crawls in one process would spend every second in fsync. A batch stretches those three
#: intervals to concurrency x 3 / BATCH_FSYNCS_PER_SECOND seconds (never below their settings), unless a run sets
#: them itself. Only power loss can take what the interval did not fsync yet; a killed process loses nothing.
BATCH_FSYNCS_PER_SECOND = 30.0
