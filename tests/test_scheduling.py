"""Schedules (intervals and cron) and the per-portal lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.recurring.locks import LockHeld, PortalLock, is_locked
from crawler.recurring.scheduling import ScheduleError, parse_duration, parse_schedule

T0 = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)


@pytest.mark.parametrize(("text", "delta"), [("30m", timedelta(minutes=30)), ("6h", timedelta(hours=6)),
                                             ("1d", timedelta(days=1)), ("2w", timedelta(days=14))])
def test_interval_is_due_one_interval_after_the_last_start(text: str, delta: timedelta) -> None:
    schedule = parse_schedule(text)
    assert schedule.next_due(T0, T0) == T0 + delta
    assert not schedule.is_due(T0, T0 + delta - timedelta(seconds=1))
    assert schedule.is_due(T0, T0 + delta)


def test_cron_is_due_at_the_first_time_after_the_last_start() -> None:
    schedule = parse_schedule("0 3 * * *")
    assert schedule.cron == "0 3 * * *"
    assert schedule.next_due(T0, T0) == datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    assert schedule.next_due(datetime(2026, 3, 1, 3, 0, 1, tzinfo=UTC)) == datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    weekly = parse_schedule("15 4 * * mon")
    assert weekly.next_due(T0, T0).weekday() == 0


def test_a_portal_that_never_ran_is_due_now() -> None:
    assert parse_schedule("1d").is_due(None, T0)
    assert parse_schedule("0 3 * * *").next_due(None, T0) == T0


@pytest.mark.parametrize("text", ["", "daily", "0d", "1x", "61 * * * *", "* * * *", "1d 2h"])
def test_bad_schedules_are_rejected(text: str) -> None:
    with pytest.raises(ScheduleError, match="expected"):
        parse_schedule(text)


def test_duration_rejects_zero_and_garbage() -> None:
    assert parse_duration("30d") == timedelta(days=30)
    for bad in ("0d", "30", "d30", "-1d"):
        with pytest.raises(ScheduleError):
            parse_duration(bad)


# -- locks ---------------------------------------------------------------------------------------------------

HOLDER = "import sys, time; from crawler.recurring.locks import PortalLock; PortalLock(sys.argv[1]).acquire(); " \
         "print('held', flush=True); time.sleep(60)"


def _holder(path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parent.parent)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_lock_held_by_a_live_process_is_refused_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "demo.lock"
    proc = _holder(path)
    try:
        assert is_locked(path)
        with pytest.raises(LockHeld, match=str(proc.pid)):
            PortalLock(path).acquire()
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]


def test_a_stale_lock_of_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "demo.lock"
    proc = _holder(path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()  # type: ignore[union-attr]
    assert path.exists() and not is_locked(path)
    lock = PortalLock(path).acquire()
    try:
        assert str(proc.pid) in lock.took_over_from
        assert path.read_text().split()[0] == str(os.getpid())
    finally:
        lock.release()
    assert not path.exists()


def test_two_locks_in_one_process_exclude_each_other(tmp_path: Path) -> None:
    path = tmp_path / "p.lock"
    with PortalLock(path), pytest.raises(LockHeld):
        PortalLock(path).acquire()
    started = time.monotonic()
    with PortalLock(path) as again:
        assert again.held and again.took_over_from == ""
    assert time.monotonic() - started < 1
