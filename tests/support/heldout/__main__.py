"""Serve one held-out seed by hand: ``cd tests && python -m support.heldout --seed 7 [--truth t.jsonl]``.

Prints the base URL, what the seed drew and the crawl command that the tests run, then serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import time

from .generate import draw_site
from .server import PortalServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--ip", default="127.0.0.20")
    parser.add_argument("--asset-ip", default="127.0.0.21")
    parser.add_argument("--truth", help="write the truth rows (JSON Lines) here")
    args = parser.parse_args()
    site = draw_site(args.seed)
    with PortalServer(site, args.ip, args.asset_ip) as server:
        if args.truth:
            with open(args.truth, "w", encoding="utf-8") as handle:
                for row in server.truth():
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"seed {args.seed}: {len(site.releases)} releases at {server.base_url}")
        print("\n".join(f"  {note}" for note in site.notes))
        print(f".venv/bin/crawler crawl --start-url {server.base_url} --portal heldout{args.seed} --out "
              f"output/heldout{args.seed} --delay 0 --asset-hosts {args.asset_ip} "
              f"--set ARCHIVER_ALLOWED_IPS={args.ip},{args.asset_ip}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
