"""Release pages of the simulated portal as the tests read them: (URL, decoded text) pairs."""

from __future__ import annotations

from collections.abc import Iterator

from simulator import templates
from simulator.portal import SimulatedPortal
from simulator.server import CONTENT_TYPES, encode_release
from spiders.decoding import decode_html


def simulated_pages(vary: int | None, count: int, releases: int = 240) -> Iterator[tuple[str, str]]:
    """``count`` release pages spread over a portal of ``releases`` (classic for ``vary=None``, else that seed)."""
    portal = SimulatedPortal(releases, vary or 0, vary=vary)
    for index in range(0, releases, releases // count):
        release = portal.release(index)
        body = encode_release(release, templates.release_page(portal, release, "127.0.0.1:8000"))
        yield "http://127.0.0.1:8000" + release.path, decode_html(body, CONTENT_TYPES[release.charset]).text
