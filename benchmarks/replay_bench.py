"""Replay benchmark: ``crawler replay`` (WARC -> the live crawl's parse and pipelines -> JSONL) next to raw warcio
iteration over the same WARC files (every response body read and decoded, nothing parsed).

Both run in a child process on one core; the rate is over the time the work itself took (printed by each child),
so interpreter start-up is left out; CPU and peak RSS come from ``os.wait4``. Without ``--warc`` a portal of
``--releases`` releases is crawled first to make the WARC.

    .venv/bin/python -m benchmarks.replay_bench [--releases 2000] [--warc DIR_OR_FILE]
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import BIN, BenchmarkError, count_lines, run_measured, table, verdict

TARGET_RELEASES_PER_S = 500


def iterate(paths: list[str]) -> int:
    """Child mode: read every response record's decoded body with warcio; print the count and the time."""
    from warcio.archiveiterator import ArchiveIterator

    from archives.warc_reader import warc_files

    started = time.perf_counter()
    responses = size = 0
    for path in warc_files(paths):
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "response":
                    size += len(record.content_stream().read())
                    responses += 1
    print(f"raw warcio: {responses} responses, {size} body bytes in {time.perf_counter() - started:.3f} s")
    return 0


def _seconds(text: str, pattern: str, what: str) -> float:
    match = re.search(pattern, text)
    if match is None:
        raise BenchmarkError(f"could not find {what} in:\n{text[-2000:]}")
    return float(match.group(1))


def run(warc: Path | None = None, releases: int = 2000, work: Path | None = None) -> dict[str, float]:
    """Run replay and raw iteration over ``warc`` (crawled first when None); print and return the figures."""
    own = work is None
    work = work or Path(tempfile.mkdtemp(prefix="bench-replay-"))
    try:
        if warc is None:
            from benchmarks.crawl_bench import full_crawl
            from simulator.process import SimulatorProcess

            with SimulatorProcess(releases=releases, seed=0) as sim:
                full_crawl(sim.base_url, work / "crawl")
            warc = work / "crawl" / "warc"
        out = work / "replayed.jsonl"
        replay = run_measured([str(BIN / "crawler"), "replay", str(warc), "--out", str(out)])
        raw = run_measured([str(BIN / "python"), "-m", "benchmarks.replay_bench", "--iterate-only", str(warc)])
        rows = count_lines(out)
        replay_s = _seconds(replay.stdout, r"releases in ([\d.]+) s", "the replay time")
        raw_s = _seconds(raw.stdout, r"in ([\d.]+) s", "the iteration time")
        responses = int(_seconds(raw.stdout, r"raw warcio: (\d+) responses", "the response count"))
        print(f"\n== replay: {warc} ({rows} releases, {responses} responses), one core ==")
        rows_table = [
            ["crawler replay (parse + pipelines + JSONL)", rows, replay_s, rows / replay_s, replay.cpu,
             replay.max_rss_mb],
            ["raw warcio iteration (bodies only)", responses, raw_s, responses / raw_s, raw.cpu, raw.max_rss_mb],
        ]
        print(table(rows_table, ["reader", "records", "work s", "per s", "CPU s (whole process)",
                                 "peak RSS MB"]))
        rate = rows / replay_s
        per_cpu_s = rows / replay.cpu  # what one core that is not shared with other processes gives
        print(f"ratio replay releases/s per raw warcio responses/s: {rate / (responses / raw_s):.3f}   "
              f"replay releases per CPU second: {per_cpu_s:.0f}")
        print(verdict("replay releases/s on one core (wall)", rate, TARGET_RELEASES_PER_S, unit="/s"))
        print(verdict("replay releases per CPU second (one core, start-up included)", per_cpu_s,
                      TARGET_RELEASES_PER_S, unit="/s"))
        return {"replay_per_s": rate, "replay_per_cpu_s": per_cpu_s, "raw_per_s": responses / raw_s, "rows": rows}
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args_list = sys.argv[1:] if argv is None else argv
    if args_list[:1] == ["--iterate-only"]:
        return iterate(args_list[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--releases", type=int, default=2000, help="releases to crawl when --warc is not given")
    parser.add_argument("--warc", default=None, help="replay these WARC files (a file or a directory)")
    args = parser.parse_args(args_list)
    run(Path(args.warc) if args.warc else None, args.releases)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
