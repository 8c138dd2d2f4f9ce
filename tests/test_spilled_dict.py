"""SpilledDict (the recurring controller's per-run tables) and AttachmentMemory (the attachment outcomes)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from crawler.recurring.spilled_dict import SpilledDict
from crawler.recurring.state import CrawlState
from spiders.attachment_memory import AttachmentMemory


def test_spilled_dict_behaves_like_a_dict_across_spills(tmp_path: Path) -> None:
    state = CrawlState(tmp_path / "state.sqlite")
    spilled = SpilledDict(state.db, "run_current", spill_at=7)
    plain: dict[str, object] = {}
    for i in range(100):
        key = f"demo:{i % 60}"  # 40 keys set twice, some after they were spilled
        value = (f"fp-{i}", i if i % 3 else None)
        assert (key in spilled) == (key in plain)
        spilled[key] = value
        plain[key] = value
    assert len(spilled) == len(plain) == 60
    assert len(spilled._pending) < 7  # the in-memory part stays bounded
    for key, value in plain.items():
        assert spilled[key] == value and spilled.get(key) == value
    assert spilled.get("demo:999") is None and "demo:999" not in spilled
    with pytest.raises(KeyError):
        spilled["demo:999"]
    assert not spilled.add("demo:1") and spilled.add("demo:1000", "x") and spilled["demo:1000"] == "x"
    assert sorted(spilled) == sorted([*plain, "demo:1000"])
    # TEMP: invisible to another connection of the same database file, nothing added to its schema
    other = sqlite3.connect(tmp_path / "state.sqlite")
    assert [r[0] for r in other.execute("SELECT name FROM sqlite_master WHERE name LIKE 'run\\_%' ESCAPE '\\'")] == []
    other.close()
    state.close()


def test_spilled_dict_does_not_write_inside_the_owners_transaction(tmp_path: Path) -> None:
    state = CrawlState(tmp_path / "state.sqlite")
    spilled = SpilledDict(state.db, "run_seen", spill_at=2)
    with pytest.raises(RuntimeError), state.transaction():
        spilled["a"] = 1
        spilled["b"] = 2  # would spill; deferred while the transaction is open, so its rollback loses nothing
        raise RuntimeError("rolled back")
    assert spilled["a"] == 1 and spilled["b"] == 2 and len(spilled) == 2
    rows = state.present_releases_except("p", spilled.keys_sql())
    assert list(rows) == []
    state.close()


def test_present_releases_except_excludes_the_listed_ones(tmp_path: Path) -> None:
    state = CrawlState(tmp_path / "state.sqlite")
    with state.transaction() as tx:
        for n in range(5):
            tx.capture(f"p:{n}", "p", f"http://x/{n}", "2026-01-01T00:00:00.000000Z", fingerprint="f", hits=1,
                       release_date=None, pointer={"record_id": f"r{n}"})
        tx.removed("p:4", "2026-01-02T00:00:00.000000Z")
    listed = SpilledDict(state.db, "run_seen", spill_at=1)
    listed["p:0"] = "http://x/0"
    listed["p:2"] = "http://x/2"
    assert sorted(state.present_releases_except("p", listed.keys_sql())) == [("p:1", "http://x/1"),
                                                                              ("p:3", "http://x/3")]
    state.close()


def test_attachment_memory_forgets_the_least_recently_used_beyond_its_limit() -> None:
    memory = AttachmentMemory(limit=5, hot=2)
    fields = {"content_type": "application/pdf", "size": 3, "payload_digest": "sha1:X",
              "warc": {"filename": "a.warc.gz", "offset": 0, "length": 9, "record_id": "<urn:uuid:1>",
                       "payload_digest": "sha1:X"}}
    for n in range(5):
        memory.put(f"http://x/{n}.pdf", {**fields, "size": n})
    assert memory.get("http://x/0.pdf") == {**fields, "size": 0}  # read back from disk (not hot), now recent
    memory.put("http://x/5.pdf", fields)  # forgets 1, the least recently used
    memory.put("http://x/6.pdf", fields)  # forgets 2
    assert len(memory) == 5 and len(memory.hot) == 2
    assert memory.get("http://x/1.pdf") is None and memory.get("http://x/2.pdf") is None
    assert [memory.get(f"http://x/{n}.pdf")["size"] for n in (0, 3, 4)] == [0, 3, 4]  # type: ignore[index]
    memory.put("http://x/3.pdf", {**fields, "size": 33})  # a known URL is replaced, not counted twice
    assert len(memory) == 5 and memory.get("http://x/3.pdf")["size"] == 33  # type: ignore[index]
    memory.close()
    with pytest.raises(ValueError, match="at least one URL"):
        AttachmentMemory(limit=0)
