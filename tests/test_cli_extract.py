"""`crawler extract` on saved pages: the record always prints; a record that cannot validate is named on stderr."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.common import run_cli

PAGES = Path(__file__).parent / "data" / "pages"


def test_a_page_whose_url_has_no_article_id_still_prints_its_record_with_a_warning() -> None:
    proc = run_cli("extract", str(PAGES / "seed_en_binjiang.html"), "--url", "http://www.example.gov.cn/news/a.html",
                   "--compact")
    assert proc.returncode == 0, proc.stderr
    record = json.loads(proc.stdout)
    assert record["title"].startswith("CPPCC Chairman Meeting of Binjiang District")
    assert record["release_id"] is None
    assert "does not validate at /release_id" in proc.stderr


def test_a_hanweb_page_validates_silently() -> None:
    proc = run_cli("extract", str(PAGES / "seed_en_binjiang.html"), "--url",
                   "http://www.example.gov.cn/art/2016/8/15/art_1229_1.html", "--compact")
    assert proc.returncode == 0 and proc.stderr == ""
    assert json.loads(proc.stdout)["release_id"] == "demo:1229_1"


def test_a_missing_page_is_a_clear_error() -> None:
    proc = run_cli("extract", "/nonexistent/page.html", "--url", "http://x.gov.cn/art/2016/8/15/art_1_1.html")
    assert proc.returncode == 2
    assert "/nonexistent/page.html" in proc.stderr and "Traceback" not in proc.stderr
