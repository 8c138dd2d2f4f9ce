"""Crawl benchmark: five fetchers against one simulated portal served from a separate process on loopback.

(a) our full archival crawl (WARC + JSONL + extraction), (b) the same spider with archiving and pipelines off,
(c) ``wget -i urls.txt --warc-file=…`` over the release URLs (a) fetched, (d) a plain Scrapy spider
(``benchmarks.plain_spider``) over the same list with Scrapy's defaults, (e) the peer: scrapy-webarchive's WACZ
exporter on a plain spider over the same list (``benchmarks/webarchive_spider.py``, in ``.swa-venv``: it pins
Scrapy<2.12). Politeness limits are lifted (loopback). The target is (a)'s CPU per page against (e)'s; (c) and
(d) are reference rows (INFO).
Each fetcher is one child process; its CPU (user + sys) and peak RSS come from ``os.wait4`` on it alone. (a) and
(e), the two sides of the target, run twice, the second time after all the others, and the run with less CPU a
page of each is the one reported.

    .venv/bin/python -m benchmarks.crawl_bench [--releases 5000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import BIN, REPO, Run, count_lines, load, run_measured, stat_from_output, table, verdict
from simulator.process import SimulatorProcess

#: Settings that lift the politeness limits for a loopback benchmark (the archival settings are untouched).
LOOPBACK_SETTINGS = {"CONCURRENT_REQUESTS": "16", "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
                     "AUTOTHROTTLE_ENABLED": "False", "PROGRESS_ENABLED": "False",
                     "ARCHIVER_ALLOWED_IPS": "127.0.0.1"}
#: (b): the same spider, no WARC capture and no item pipelines (no JSONL either).
BARE_SETTINGS = {"WARC_ENABLED": "False", "ITEM_PIPELINES": "{}"}
WGET = shutil.which("wget") or "/usr/bin/wget"
#: scrapy-webarchive pins Scrapy<2.12: its own virtualenv (Makefile, `.swa-venv`), like pywb's
SWA_PYTHON = REPO / ".swa-venv" / "bin" / "python"
#: Runs of (a) and of (e); the one with less CPU a page is kept (a crawl takes half a minute, and a burst of load
#: from elsewhere on a shared machine moved one run's CPU a page by 10%).
ROUNDS = 2


@dataclass(frozen=True)
class Fetch:
    """One fetcher's figures."""

    name: str
    pages: int
    releases: int
    run: Run

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.run.wall

    @property
    def releases_per_s(self) -> float:
        return self.releases / self.run.wall

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * self.run.cpu / max(self.pages, 1)

    @property
    def cpu_ms_per_release(self) -> float:
        return 1000 * self.run.cpu / max(self.releases, 1)

    def row(self) -> list[object]:
        return [self.name, self.pages, self.releases, self.run.wall, self.pages_per_s, self.releases_per_s,
                self.run.cpu, self.cpu_ms_per_page, self.cpu_ms_per_release, self.run.max_rss_mb]


HEADER = ["fetcher", "pages", "releases", "wall s", "pages/s", "releases/s", "CPU s", "CPU ms/page",
          "CPU ms/release", "peak RSS MB"]


def crawl_command(start_url: str, out_dir: Path, extra: dict[str, str] | None = None) -> list[str]:
    """The ``crawler crawl`` command line of the archival crawl, politeness lifted for loopback."""
    cmd = [str(BIN / "crawler"), "crawl", "--start-url", start_url, "--portal", "demo", "--out", str(out_dir),
           "--delay", "0"]
    for name, value in {**LOOPBACK_SETTINGS, **(extra or {})}.items():
        cmd += ["--set", f"{name}={value}"]
    return cmd


def full_crawl(start_url: str, out_dir: Path, name: str = "(a) full archival crawl") -> Fetch:
    """Run the full archival crawl; releases are the rows of its JSON Lines file."""
    run = run_measured(crawl_command(start_url, out_dir))
    releases = count_lines(out_dir / "releases.jsonl")
    pages = stat_from_output(run.stdout, r"(\d+) pages, \d+ releases archived", "the page count")
    return Fetch(name, pages, releases, run)


def bare_crawl(start_url: str, out_dir: Path, releases: int) -> Fetch:
    """(b): the same spider without WARC capture and pipelines. It writes no rows, so its summary counts no release
    archived: its releases are (a)'s, whose pages it fetches (the page counts of both are printed)."""
    run = run_measured(crawl_command(start_url, out_dir, BARE_SETTINGS), check=False)
    pages = stat_from_output(run.stdout, r"(\d+) pages, \d+ releases archived", "the page count")
    return Fetch("(b) same spider, no WARC/pipelines", pages, releases, run)


def wget_fetch(urls: Path, work: Path) -> Fetch:
    """wget over the URL list with a gzipped WARC; the response records it wrote are counted."""
    from warcio.archiveiterator import ArchiveIterator

    work.mkdir(parents=True, exist_ok=True)
    run = run_measured([WGET, "-q", "--tries=1", "-i", str(urls), "--warc-file=" + str(work / "wget"),
                        "--no-warc-keep-log", "-O", "/dev/null"], cwd=work)
    with (work / "wget.warc.gz").open("rb") as handle:
        responses = sum(1 for record in ArchiveIterator(handle) if record.rec_type == "response")
    return Fetch("(c) wget --warc-file, URL list", responses, responses, run)


def plain_scrapy(urls: Path) -> Fetch:
    run = run_measured([str(BIN / "python"), "-m", "benchmarks.plain_spider", str(urls)])
    pages = stat_from_output(run.stdout, r"pages fetched: (\d+)", "the page count")
    return Fetch("(d) plain Scrapy spider, URL list", pages, pages, run)


def webarchive_fetch(urls: Path, work: Path) -> Fetch | None:
    """(e) the peer: scrapy-webarchive's WACZ exporter on a plain spider over the URL list, in its own virtualenv."""
    if not SWA_PYTHON.is_file():
        print(f"INFO (e) scrapy-webarchive not run: {SWA_PYTHON} is missing (`make bench` makes it)")
        return None
    work.mkdir(parents=True, exist_ok=True)
    run = run_measured([str(SWA_PYTHON), str(REPO / "benchmarks" / "webarchive_spider.py"), str(urls), str(work)])
    pages = stat_from_output(run.stdout, r"pages fetched: (\d+)", "the page count")
    return Fetch("(e) scrapy-webarchive (WACZ), URL list", pages, pages, run)


def _less_cpu(kept: Fetch, other: Fetch | None) -> Fetch:
    """Of two runs of one fetcher, the one with less CPU a page."""
    return other if other is not None and other.cpu_ms_per_page < kept.cpu_ms_per_page else kept


def write_url_list(jsonl: Path, target: Path) -> int:
    """The release URLs the archival crawl fetched, one a line."""
    count = 0
    with jsonl.open(encoding="utf-8") as rows, target.open("w", encoding="utf-8") as out:
        for line in rows:
            out.write(json.loads(line)["url"] + "\n")
            count += 1
    return count


def run(releases: int = 5000, work: Path | None = None) -> dict[str, Fetch]:
    """Run the fetchers side by side, print the table and the target lines, return the figures."""
    own = work is None
    work = work or Path(tempfile.mkdtemp(prefix="bench-crawl-"))
    try:
        with SimulatorProcess(releases=releases, seed=0) as sim:
            print(f"\n== crawl: simulated portal of {releases} releases at {sim.base_url} (separate process) ==")
            full = full_crawl(sim.base_url, work / "full")
            urls = work / "urls.txt"
            listed = write_url_list(work / "full" / "releases.jsonl", urls)
            wget = wget_fetch(urls, work / "wget")
            plain = plain_scrapy(urls)
            peer = webarchive_fetch(urls, work / "webarchive")
            bare = bare_crawl(sim.base_url, work / "bare", full.releases)
            for again in range(2, ROUNDS + 1):
                full = _less_cpu(full, full_crawl(sim.base_url, work / f"full-{again}"))
                if peer is not None:
                    peer = _less_cpu(peer, webarchive_fetch(urls, work / f"webarchive-{again}"))
        results = {"full": full, "bare": bare, "wget": wget, "plain": plain}
        fetchers = [full, bare, wget, plain]
        if peer is not None:
            results["webarchive"] = peer
            fetchers.append(peer)
        print(table([f.row() for f in fetchers], HEADER))
        print(f"URL list for (c), (d) and (e): {listed} release URLs from (a); (a) and (b) also fetch the list pages. "
              f"Now: {load()}.")
        # reference rows (issue 15): Scrapy's engine alone costs about twice wget's whole fetch, so no target
        print(f"INFO ratio (a)/(c) releases/s per wget pages/s: {full.releases_per_s / wget.pages_per_s:.2f}   "
              f"(a)/(c) CPU per release per wget CPU per page: {full.cpu_ms_per_release / wget.cpu_ms_per_page:.2f}"
              f"   (b)/(d) CPU per page: {bare.cpu_ms_per_page / plain.cpu_ms_per_page:.2f}"
              f"   (d)/(c) CPU per page: {plain.cpu_ms_per_page / wget.cpu_ms_per_page:.2f}")
        if peer is not None:
            print(verdict("full archival crawl CPU per page vs scrapy-webarchive's (e)",
                          full.cpu_ms_per_page / peer.cpu_ms_per_page, 1, at_most=True, unit="x"))
        if full.releases != releases:
            print(f"WARNING: the full crawl archived {full.releases} of {releases} releases")
        return results
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--releases", type=int, default=5000, help="releases of the simulated portal")
    parser.add_argument("--keep", default=None, help="keep the outputs in this directory")
    args = parser.parse_args(argv)
    run(args.releases, Path(args.keep) if args.keep else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
