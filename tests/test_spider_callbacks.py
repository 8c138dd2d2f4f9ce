"""Scrapy's generator-return check, run once here instead of on every response (WARN_ON_GENERATOR_RETURN_VALUE is
off in crawler/settings.py: Scrapy re-parsed a bound callback's source for each response)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Generator, Iterator
from typing import Any

from scrapy.utils.misc import is_generator_with_return_value

PACKAGES = ("spiders", "crawler.recurring", "crawler.fetch")


def _generator_functions() -> Iterator[tuple[str, Callable[..., Any]]]:
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.iter_modules(package.__path__, prefix=f"{package_name}."):
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                if inspect.isclass(value) and value.__module__ == module.__name__:
                    candidates = [(f"{info.name}.{name}.{attr}", fn) for attr, fn in vars(value).items()
                                  if inspect.isfunction(fn)]
                elif inspect.isfunction(value) and value.__module__ == module.__name__:
                    candidates = [(f"{info.name}.{name}", value)]
                else:
                    continue
                yield from ((label, fn) for label, fn in candidates if inspect.isgeneratorfunction(fn))


def test_no_generator_callback_returns_a_value() -> None:
    found = dict(_generator_functions())
    assert "spiders.hanweb.HanwebSpider.parse_release" in found  # the walk reaches the callbacks
    offenders = [label for label, fn in found.items() if is_generator_with_return_value(fn)]
    assert offenders == [], f"generators that return a value (Scrapy would drop it): {offenders}"


def _bad(values: list[int]) -> Generator[int, None, int]:
    yield from values
    return len(values)  # the case the check exists for


def test_the_check_finds_a_generator_that_returns_a_value() -> None:
    assert is_generator_with_return_value(_bad)


def test_scrapy_does_not_repeat_the_check_in_a_crawl() -> None:
    from crawler import settings

    assert settings.WARN_ON_GENERATOR_RETURN_VALUE is False
