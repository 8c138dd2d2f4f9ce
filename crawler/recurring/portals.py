"""The portal registry: ``portals.toml``, one ``[portals.ID]`` table per portal, validated on load.

Every problem is reported as one line naming the file, the portal, the key and what is expected, e.g.
``portals.toml: portal "demo": key "schedule": expected an interval such as ... got 'dayly'``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.errors import CrawlerError
from crawler.recurring.scheduling import SCHEDULE_EXPECTED, Schedule, ScheduleError, parse_duration, parse_schedule

#: The CMS families a portal may name; each is the name of a spider.
CMS_SPIDERS = {"hanweb": "hanweb"}
LANGUAGES = ("zh", "en")
DEFAULT_REFRESH_WINDOW = "30d"
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_HOST = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")  # a host name, no port (Scrapy's rule)


class PortalConfigError(CrawlerError, ValueError):
    """The registry file is missing, not TOML, or has an entry that does not validate."""


@dataclass(frozen=True)
class Portal:
    """One registered portal."""

    id: str
    name: str
    start_urls: tuple[str, ...]
    allowed_hosts: tuple[str, ...]
    asset_hosts: tuple[str, ...]
    cms: str
    language: str
    schedule: Schedule
    delay: float
    concurrency: int
    refresh_window: timedelta
    enabled: bool
    #: Non-public addresses this portal may be reached at (ARCHIVER_ALLOWED_IPS entries); empty for real portals.
    allowed_ips: tuple[str, ...] = ()

    @property
    def spider(self) -> str:
        """The spider that crawls this portal's CMS family."""
        return CMS_SPIDERS[self.cms]


class _Entry:
    """Typed access to one raw table, raising errors that name the portal and the key."""

    def __init__(self, source: str, portal_id: str, raw: Mapping[str, Any]) -> None:
        self.source, self.portal_id, self.raw = source, portal_id, raw

    def error(self, key: str, expected: str, value: Any) -> PortalConfigError:
        return PortalConfigError(
            f"{self.source}: portal {self.portal_id!r}: key {key!r}: expected {expected}, got {value!r}")

    def get(self, key: str, expected: str, check: Callable[[Any], bool], default: Any = ...) -> Any:
        if key not in self.raw:
            if default is ...:
                raise PortalConfigError(f"{self.source}: portal {self.portal_id!r}: key {key!r} is missing "
                                        f"(expected {expected})")
            return default
        value = self.raw[key]
        if not check(value):
            raise self.error(key, expected, value)
        return value


#: What a portal id must be (it prefixes every release_id).
ID_RULE = "1-64 of a-z, 0-9, '_' and '-', starting with a letter or digit"


def valid_portal_id(portal_id: str) -> bool:
    """True when *portal_id* is an id the registry accepts."""
    return bool(_ID.match(portal_id))


def _is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _str_list(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, list) and all(check(x) for x in v)


def _number(minimum: float) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v >= minimum


KEYS = ("name", "start_urls", "allowed_hosts", "asset_hosts", "cms", "language", "schedule", "delay",
        "concurrency", "refresh_window", "enabled", "allowed_ips")


def parse_portal(portal_id: str, raw: Any, source: str = "portals.toml") -> Portal:
    """Validate one ``[portals.ID]`` table."""
    if not _ID.match(portal_id):
        raise PortalConfigError(f"{source}: portal {portal_id!r}: the id must be {ID_RULE} (it prefixes every "
                                "release_id)")
    if not isinstance(raw, dict):
        raise PortalConfigError(f"{source}: portal {portal_id!r}: expected a table [portals.{portal_id}]")
    entry = _Entry(source, portal_id, raw)
    for key in raw:
        if key not in KEYS:
            raise PortalConfigError(f"{source}: portal {portal_id!r}: unknown key {key!r} "
                                    f"(expected one of {', '.join(KEYS)})")
    name = entry.get("name", "a non-empty string", lambda v: isinstance(v, str) and bool(v.strip()))
    start_urls = entry.get("start_urls", "a non-empty list of http(s) URLs",
                           lambda v: isinstance(v, list) and bool(v) and all(_is_url(u) for u in v))
    default_hosts = sorted({urlsplit(u).hostname or "" for u in start_urls})
    allowed = entry.get("allowed_hosts", "a list of host names without ports", _str_list(lambda h: isinstance(h, str)
                                                                             and bool(_HOST.match(h))),
                        default_hosts)
    assets = entry.get("asset_hosts", "a list of host names without ports", _str_list(lambda h: isinstance(h, str)
                                                                          and bool(_HOST.match(h))), [])
    cms = entry.get("cms", f"one of {', '.join(sorted(CMS_SPIDERS))}", lambda v: v in CMS_SPIDERS, "hanweb")
    language = entry.get("language", f"one of {', '.join(LANGUAGES)}", lambda v: v in LANGUAGES, "zh")
    schedule_text = entry.get("schedule", SCHEDULE_EXPECTED, lambda v: isinstance(v, str))
    try:
        schedule = parse_schedule(schedule_text)
    except ScheduleError:
        raise entry.error("schedule", SCHEDULE_EXPECTED, schedule_text) from None
    delay = float(entry.get("delay", "a number of seconds >= 0", _number(0), 1.0))
    concurrency = int(entry.get("concurrency", "an integer >= 1",
                                lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, 2))
    window_text = entry.get("refresh_window", "a duration such as 30d", lambda v: isinstance(v, str),
                            DEFAULT_REFRESH_WINDOW)
    try:
        window = parse_duration(window_text)
    except ScheduleError:
        raise entry.error("refresh_window", "a duration such as 30d or 12h", window_text) from None
    enabled = entry.get("enabled", "true or false", lambda v: isinstance(v, bool), True)
    allowed_ips = entry.get("allowed_ips", "a list of IP addresses, networks (10.0.0.0/8) or address:port entries",
                            _str_list(_is_ip_entry), [])
    return Portal(portal_id, name.strip(), tuple(start_urls), tuple(allowed), tuple(assets), cms, language,
                  schedule, delay, concurrency, window, enabled, tuple(allowed_ips))


def _is_ip_entry(value: Any) -> bool:
    from crawler.fetch.ip_policy import IpPolicy, IpPolicyError

    if not isinstance(value, str) or not value:
        return False
    try:
        IpPolicy([value])
    except IpPolicyError:
        return False
    return True


def load_registry(path: str | Path) -> dict[str, Portal]:
    """Read and validate a registry file; return the portals by id, in file order."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PortalConfigError(f"portal registry {path} does not exist") from None
    except OSError as exc:
        raise PortalConfigError(f"cannot read portal registry {path}: {exc.strerror}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PortalConfigError(f"{path}: not valid TOML: {exc}") from exc
    extra = set(data) - {"portals"}
    if extra:
        raise PortalConfigError(f"{path}: unknown top-level key(s) {', '.join(sorted(extra))} "
                                "(expected only [portals.ID] tables)")
    tables = data.get("portals", {})
    if not isinstance(tables, dict):
        raise PortalConfigError(f"{path}: 'portals' must be tables [portals.ID]")
    return {pid: parse_portal(pid, raw, str(path)) for pid, raw in tables.items()}


def get_portal(path: str | Path, portal_id: str) -> Portal:
    """One portal of the registry; PortalConfigError naming the known ids if it is not there."""
    portals = load_registry(path)
    if portal_id not in portals:
        known = ", ".join(portals) or "none"
        raise PortalConfigError(f"{path}: no portal {portal_id!r} (registered: {known})")
    return portals[portal_id]
