"""Held-out Hanweb portals and hostile servers, written without reading the crawler or its simulator.

A seed draws a portal (:func:`generate.draw_spec` then :func:`generate.build_site`): its columns, list widgets, list
endpoints, release-page templates, charsets and attachments, with an exact truth of every release's fields
(:meth:`model.Release.truth`). :class:`server.PortalServer` serves it on 127.0.0.x (real HTTP, port 0) and counts
every request, the hit counters' included. :mod:`hostile` builds the small adversarial servers of issues 11 and 13.
:mod:`crawl` runs the real ``crawler crawl`` in a child process, :mod:`compare` checks its rows against the truth.
``python -m support.heldout --seed N`` (from ``tests/``) serves seed N and writes its truth for a replay by hand.

Nothing here imports the project's packages: the point is an independent view of what a Hanweb portal looks like.
"""
