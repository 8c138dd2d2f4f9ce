"""The ``crawler`` command. ``main`` parses and dispatches; one module per group of subcommands.

Modules import ``common`` and nothing else of this package, except ``main`` (the parser, which imports them all)
and ``crawl`` (which builds on ``recurring`` for ``crawl --portal``): no circle. Nothing outside imports this package.
"""

from crawler.cli.main import main

__all__ = ["main"]
