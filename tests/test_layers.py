"""The layer contracts of docs/architecture.md (import-linter, ``[tool.importlinter]`` in pyproject.toml) hold on
the real tree, and break on a copy of it with one deliberate bad import: the test proves the contracts bite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.common import REPO

PACKAGES = ("crawler", "spiders", "pipelines", "archives", "simulator")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the packages under *root* (they come first on its path, before the installed ones)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--config", str(root / "pyproject.toml")], cwd=root,
                          env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def add_line(path: Path, line: str) -> None:
    """Append an import at the end of a module (where it breaks nothing but the contract)."""
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")


def test_the_real_tree_keeps_every_contract() -> None:
    proc = lint_imports(REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_the_copy_keeps_them_too(tree_copy: Path) -> None:
    """The copy is checked, not the installed tree: unchanged, it passes."""
    proc = lint_imports(tree_copy)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(("module", "line", "contract"), [
    # archives/ format code must stay free of Scrapy, directly or through another module
    ("archives/fixity.py", "import scrapy", "archives/ is format code"),
    ("archives/fixity.py", "import archives.components.capture", "archives/ is format code"),
    ("archives/warc_reader.py", "from crawler import items", "archives/ is format code"),
    # pipelines transform items: no spider, no archive
    ("pipelines/hits.py", "from spiders import hanweb", "pipelines/ transform items"),
    ("pipelines/hits.py", "import archives.jsonl", "pipelines/ transform items"),
    # spiders import nothing from archives/, not even through a lower room
    ("spiders/hanweb.py", "import archives.pointer", "spiders/ yield requests and items"),
    # a lower room reaching up
    ("crawler/fetch/offsite.py", "import crawler.recurring.controller", "Rooms, top to bottom"),
    # export reads output directories: no spider; report and export are independent rooms
    ("crawler/export/card.py", "import spiders.hanweb", "crawler/export/ reads crawl outputs"),
    ("crawler/export/source.py", "import crawler.report.build", "Rooms, top to bottom"),
    ("crawler/export/source.py", "import crawler.cli.export", "Nothing imports the CLI"),
    # nobody imports the CLI
    ("crawler/items.py", "import crawler.cli", "Nothing imports the CLI"),
    # the simulator stays apart
    ("simulator/portal.py", "import crawler.items", "simulator/ is a fixture"),
    # the CLI's modules in a circle
    ("crawler/cli/common.py", "import crawler.cli.crawl", "without a circle"),
])
def test_a_bad_import_breaks_its_contract(tree_copy: Path, module: str, line: str, contract: str) -> None:
    add_line(tree_copy / module, line)
    proc = lint_imports(tree_copy)
    assert proc.returncode != 0, proc.stdout
    _summary, _, broken = proc.stdout.partition("Broken contracts")
    assert contract in broken, proc.stdout[-3000:]
