"""The simulated portal, writing the arrival time of every request it serves (measured at the server).

    python tests/support/timed_simulator.py TIMES_FILE -- SIMULATOR_ARGS…

Each line of TIMES_FILE: ``{time.time()} {Host header} {request URI}``, written when the request has arrived
(before the simulator renders its answer). The rate tests read it.
"""

from __future__ import annotations

import sys
import time
from typing import Any


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] != "--":
        print("usage: timed_simulator.py TIMES_FILE -- SIMULATOR_ARGS...", file=sys.stderr)
        return 2
    from simulator import server

    log = open(argv[0], "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - open for the server's lifetime
    build_site = server.build_site

    def timed_build_site(portal: Any, default_host: str) -> Any:
        site = build_site(portal, default_host)
        render = site.resource.render

        def timed_render(request: Any) -> Any:
            host = (request.getHeader("host") or "-").replace(" ", "")
            log.write(f"{time.time():.6f} {host} {request.uri.decode('latin-1')}\n")
            return render(request)

        site.resource.render = timed_render
        return site

    server.build_site = timed_build_site
    return int(server.main(argv[2:]) or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
