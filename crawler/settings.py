"""Every setting of the archiver, with its default and why. Grouped and prefixed by feature.

Scrapy settings come first (as this project needs them), then the project's own groups: ARCHIVER_*, WARC_*,
JSONL_*, PROGRESS_*. Any of them can be overridden per run with ``-s NAME=VALUE`` or by the ``crawler`` command.
"""

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
REMOTE_CONTROL_ENABLED = False  # Scrapy 2.19's default-on /execute endpoint: off
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
#: Pipelines are synchronous and cheap; one item at a time avoids Scrapy 2.19 starting many workers per response.
CONCURRENT_ITEMS = 1

# -- Politeness (portals are public services; loopback demo runs lift these per run) ------------------------
ROBOTSTXT_OBEY = True
DOWNLOAD_DELAY = 1.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_TIMEOUT = 60
RETRY_TIMES = 2
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
    # No br/zstd: warcio and pywb cannot decode them reliably, and the WARC keeps bodies as received.
    "Accept-Encoding": "gzip, deflate",
}

# -- Components -----------------------------------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # Drops any request to a hit counter (visit.jsp, articlehits.jsp, artcount.jsp): each fetch inflates it.
    "crawler.counter_guard.HitCounterGuardMiddleware": 50,
}
EXTENSIONS = {
    "crawler.offline_psl.BundledPublicSuffixList": 0,
    "archives.capture.WarcCaptureExtension": 100,
    "crawler.progress.ProgressExtension": 900,
}
ITEM_PIPELINES = {
    "pipelines.boilerplate.BoilerplatePipeline": 100,
    "pipelines.dates.ReleaseDatePipeline": 200,
    "pipelines.hits.HitsPipeline": 300,
    "pipelines.validate.SchemaValidationPipeline": 800,
    "archives.jsonl.JsonlExportPipeline": 900,
}

# -- Portal ---------------------------------------------------------------------------------------------------
#: The portal id that prefixes every release_id ("demo:12345").
PORTAL_ID = "demo"

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
JSONL_OUTPUT_PATH = "output/releases.jsonl"
JSONL_FSYNC_INTERVAL = 1.0
#: The item field holding the WARC pointer; rows without one are dropped unless JSONL_REQUIRE_WARC is off.
JSONL_WARC_FIELD = "warc"
JSONL_REQUIRE_WARC = True

# -- Progress -------------------------------------------------------------------------------------------------
#: Show a live progress line on a terminal (never when stderr is not a terminal).
PROGRESS_ENABLED = True
PROGRESS_INTERVAL = 1.0
