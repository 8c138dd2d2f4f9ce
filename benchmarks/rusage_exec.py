"""Run a command as a grandchild and write its own CPU time and peak RSS to a file (used without GNU time).

Linux keeps a process's peak RSS across ``execve`` and a forked child starts with its parent's, so a large
benchmark process cannot measure a small child directly: this small process forks the command and reads
``os.wait4`` itself. Its own start-up size (about 9 MB) is a floor under the peak RSS it reports.

    python -m benchmarks.rusage_exec OUT_FILE COMMAND [ARG ...]
"""

import os
import sys


def main() -> int:
    out_file, cmd = sys.argv[1], sys.argv[2:]
    pid = os.fork()
    if pid == 0:  # pragma: no cover - replaced by exec
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    _pid, status, usage = os.wait4(pid, 0)
    with open(out_file, "w", encoding="ascii") as handle:
        handle.write(f"{usage.ru_utime} {usage.ru_stime} {usage.ru_maxrss}\n")
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
