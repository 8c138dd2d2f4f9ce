"""Export benchmark: ``crawler export`` of a crawl directory of synthetic, realistic schema-2 rows (no crawl needed)
to Parquet, Parquet ``--latest`` and CSV; wall seconds, CPU and peak RSS of the command (``wait4``).

Rows stream in record batches, so peak RSS should not grow with the rows: the run at ``--rows`` is compared with
one at a fifth of it. Each row has a 1.5-2.5 KB body (text and HTML), a third have an attachment, a third a null
hit count, a third no time of day; every tenth release has a second capture (a recurring run), which ``--latest``
drops.

    .venv/bin/python -m benchmarks.export_bench [--rows 50000]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import BIN, run_measured, table, verdict
from pipelines import EXTRACTOR_VERSION

TARGET_SECONDS = 30.0
#: Peak RSS may grow by at most this share from a fifth of the rows to all of them (bounded memory).
TARGET_RSS_GROWTH = 0.25

_SENTENCES = ("区政府召开专题会议，研究部署老旧小区改造工作。", "会议要求各部门完善长效机制，推动高质量发展。",
              "截至目前，全区已累计完成相关项目300场，完成投资89.5亿元。",
              "下一步，区统计局将补齐短板弱项，营造良好发展环境。",
              "各街道、区级各部门要高度重视，认真抓好贯彻落实。", "特此通知。")
_COLUMNS = (("1229001", "政务动态"), ("1229002", "通知公告"), ("1229003", "政策文件"), ("1229004", "部门信息"))


def synthetic_row(index: int, rng: random.Random, capture: int = 0) -> dict[str, Any]:
    """One realistic schema-2 row (docs/schema.md) of release *index*; *capture* > 0: a later capture of it."""
    column_id, column_name = _COLUMNS[index % len(_COLUMNS)]
    article = 2410000 + index
    year, month, day = 2014 + index % 11, 1 + index % 12, 1 + index % 28
    paragraphs = ["".join(rng.choice(_SENTENCES) for _ in range(rng.randint(4, 8))) for _ in range(rng.randint(2, 4))]
    timed = index % 3 != 0
    clock = f"{index % 24:02d}:{index % 60:02d}"
    url = f"http://www.example.gov.cn/art/{year}/{month}/{day}/art_{column_id}_{article}.html"
    warc = {"filename": f"bench-20260101000000000-{index // 5000:05d}-host.warc.gz", "offset": index * 9000,
            "length": 9000, "record_id": f"<urn:uuid:00000000-0000-4000-8000-{index:012d}>",
            "payload_digest": "sha1:2QJ4TWJGW3VDYUM4GRQUNMIXFWKNBWWQ"}
    attachments = [] if index % 3 else [{
        "url": f"http://www.example.gov.cn/module/download/downfile.jsp?classid=0&filename={index:032x}.pdf",
        "name": "附件1：工作方案.pdf", "content_type": "application/pdf", "size": 48213,
        "payload_digest": "sha1:AB7TWJGW3VDYUM4GRQUNMIXFWKNBWWQ2", "warc": dict(warc, offset=index * 9000 + 4500),
        "skip_reason": None}]
    return {
        "schema_version": 2, "extractor_version": EXTRACTOR_VERSION,
        "release_id": f"bench:{column_id}_{article}", "portal": "bench", "url": url, "column_id": column_id,
        "column_name": column_name, "title": f"关于做好{year}年度第{index}项工作的通知",
        "release_date": f"{year}-{month:02d}-{day:02d}",
        "release_datetime": f"{year}-{month:02d}-{day:02d}T{clock}:00+08:00" if timed else None,
        "release_time_precision": "minute" if timed else None,
        "release_raw": f"{year}-{month:02d}-{day:02d}" + (f" {clock}" if timed else ""),
        "release_source": "labelled_text", "hits": None if index % 3 == 1 else index * 7 + capture,
        "hits_raw": "" if index % 3 == 1 else str(index * 7 + capture), "source": "区政府办公室",
        "index_no": f"002482510/{year}-{index:05d}", "doc_no": None,
        "body_text": "\n\n".join(paragraphs), "body_html": "".join(f"<p>{p}</p>" for p in paragraphs),
        "attachments": attachments, "language": "zh", "charset": {"header": "utf-8", "meta": "utf-8", "used": "utf-8"},
        "fetched_at": f"2026-0{1 + capture}-01T00:{index % 60:02d}:{index % 59:02d}Z", "warc": warc,
    }


def write_crawl(directory: Path, rows: int, seed: int = 0) -> int:
    """A crawl directory holding ``releases.jsonl`` of *rows* rows; returns the number of releases."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    releases = rows * 10 // 11
    with (directory / "releases.jsonl").open("w", encoding="utf-8") as handle:
        for written in range(rows):
            index, capture = (written, 0) if written < releases else ((written - releases) * 10 % releases, 1)
            handle.write(json.dumps(synthetic_row(index, rng, capture), ensure_ascii=False, separators=(",", ":")))
            handle.write("\n")
    return releases


def run(rows: int = 50000, work: Path | None = None) -> dict[str, float]:
    """Export crawls of rows/5 and *rows* rows; print the table and the target lines; return the figures."""
    own = work is None
    work = work or Path(tempfile.mkdtemp(prefix="bench-export-"))
    figures: dict[str, float] = {}
    try:
        results = []
        for size in (max(rows // 5, 1), rows):
            crawl = work / f"crawl-{size}"
            releases = write_crawl(crawl, size)
            mb = (crawl / "releases.jsonl").stat().st_size / 1e6
            for label, extra in (("parquet", []), ("parquet --latest", ["--latest"]), ("csv", ["--format", "csv"])):
                target = work / f"out-{size}.{'csv' if 'csv' in label else 'parquet'}"
                measured = run_measured([str(BIN / "crawler"), "export", str(crawl), *extra, "-o", str(target)])
                expected = releases if extra == ["--latest"] else size
                if f"exported {expected} rows" not in measured.stdout:
                    raise RuntimeError(f"unexpected export output: {measured.stdout}")
                results.append((f"{size} rows, {label}", round(mb, 1), measured.wall, measured.cpu,
                                measured.max_rss_mb, round(size / measured.wall)))
                figures[f"{size}/{label}/seconds"] = measured.wall
                figures[f"{size}/{label}/rss_mb"] = measured.max_rss_mb
        print("== crawler export ==")
        print(table(results, ["export", "JSONL MB", "wall s", "CPU s", "peak RSS MB", "rows/s"]))
        small, large = max(rows // 5, 1), rows
        worst = max(figures[f"{large}/{label}/seconds"] for label in ("parquet", "parquet --latest", "csv"))
        growth = max(figures[f"{large}/{label}/rss_mb"] / figures[f"{small}/{label}/rss_mb"] - 1
                     for label in ("parquet", "parquet --latest", "csv"))
        print(verdict(f"export of {large} rows, slowest format", worst, TARGET_SECONDS, at_most=True, unit=" s"))
        print(verdict(f"peak RSS growth from {small} to {large} rows", growth * 100, TARGET_RSS_GROWTH * 100,
                      at_most=True, unit="%"))
        return figures
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50000, help="rows of the large crawl directory")
    args = parser.parse_args(argv)
    run(args.rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
