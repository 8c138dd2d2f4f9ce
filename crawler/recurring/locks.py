"""One lock per portal, so two runs never crawl the same portal into the same archive at once.

The lock file holds ``PID HOST`` for people; the lock itself is a ``flock`` on that file, which the kernel
drops when the holding process dies however it dies (kill -9 included). A stale file left by a dead run is
therefore taken over without a race, and a recycled PID can never keep a lock alive. The file is created
with ``O_CREAT|O_EXCL`` when absent; after taking the flock the holder checks that the path still names the
inode it locked (a releasing run unlinks the file), and retries otherwise.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from pathlib import Path
from types import TracebackType

from crawler.errors import CrawlerError


class LockHeld(CrawlerError, RuntimeError):
    """Another live process holds the lock."""

    def __init__(self, path: Path, holder: str) -> None:
        self.path, self.holder = path, holder
        super().__init__(f"{path} is held by a running crawl ({holder or 'unknown holder'})")


def read_holder(path: Path) -> str:
    """The ``PID HOST`` text of a lock file ('' when unreadable)."""
    try:
        return path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return ""


def is_locked(path: str | os.PathLike[str]) -> bool:
    """True when a live process holds an flock on *path* (a missing file is not locked)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


class PortalLock:
    """``acquire()`` or raise LockHeld; ``release()`` unlinks and unlocks. Usable as a context manager."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        #: The holder text found in a file taken over from a dead run ('' when the file was new).
        self.took_over_from = ""

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> PortalLock:
        """Take the lock without waiting."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _attempt in range(20):
            created = True
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                created = False
                try:
                    fd = os.open(self.path, os.O_RDWR)
                except FileNotFoundError:
                    continue  # released between our two opens
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise LockHeld(self.path, read_holder(self.path)) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            self.took_over_from = "" if created else read_holder(self.path)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
            os.fsync(fd)
            self._fd = fd
            return self
        raise LockHeld(self.path, "lock file keeps changing")

    def release(self) -> None:
        """Unlink the file, then drop the flock (in that order, see the module docstring)."""
        if self._fd is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> PortalLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
