"""N simulated portals served by one process, each on a loopback address of its own (127.0.x.y), one port.

    python -m benchmarks.many_portals_server --portals 300 --releases 20 [--port 0]

Prints ``listening on PORT`` once every address listens. Portal ``i`` is ``SimulatedPortal(releases, seed=i)`` at
`address(i)`; each address is a host of its own for the crawler's politeness (one download slot per host).
"""

from __future__ import annotations

import argparse
import sys

from simulator.portal import SimulatedPortal
from simulator.server import build_site


def address(index: int) -> str:
    """The loopback address of portal ``index``: 127.0.1.1, 127.0.1.2, … 127.0.1.250, 127.0.2.1, …"""
    return f"127.0.{1 + index // 250}.{1 + index % 250}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--portals", type=int, required=True)
    parser.add_argument("--releases", type=int, default=20)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    from twisted.internet import reactor

    port = args.port
    for index in range(args.portals):
        host = address(index)
        site = build_site(SimulatedPortal(args.releases, seed=index), f"{host}:{port}")
        listening = reactor.listenTCP(port, site, interface=host)  # type: ignore[attr-defined]
        port = listening.getHost().port  # the first address picks a free port; the others use it too
        site.resource.default_host = f"{host}:{port}"
    print(f"listening on {port}", flush=True)
    reactor.run()  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    sys.exit(main())
