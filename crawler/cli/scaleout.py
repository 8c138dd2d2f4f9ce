"""The queue commands: ``crawler worker``, ``run-due --queue``, ``queue-status``, ``reassign``.

Bad input (a malformed ``--queue`` URL, a Redis that does not answer, a bad machine name or setting, a broken
registry) is one line naming it and the expected form, exit status 2, before anything is written. Importing
this module imports neither Redis nor Dramatiq; plain ``run-due`` never does.
"""

from __future__ import annotations

import argparse
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.cli.common import EXIT_CRAWL_PROBLEM, EXIT_OK, CliError, check_writable_dir, parse_set

if TYPE_CHECKING:
    from scrapy.settings import Settings

    from crawler.scaleout.config import ScaleoutConfig
    from crawler.scaleout.redis_url import RedisUrl

QUEUE_HELP = "Redis URL of the job queue: redis://[[user]:password@]host[:port][/db] or rediss://… (TLS)"


def _settings(pairs: list[str] | None) -> Settings:
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    for name, value in parse_set(pairs).items():
        settings.set(name, value, priority="cmdline")
    return settings


def _queue_setup(args: argparse.Namespace, machine: str | None = None) -> tuple[RedisUrl, ScaleoutConfig]:
    """The checked URL and settings (no network yet)."""
    from crawler.scaleout.config import ScaleoutConfig
    from crawler.scaleout.keys import BadName
    from crawler.scaleout.redis_url import RedisUrlError, parse_redis_url

    try:
        url = parse_redis_url(args.queue)
    except RedisUrlError as exc:
        raise CliError(str(exc)) from None
    try:
        config = ScaleoutConfig.from_settings(_settings(args.set), machine=machine)
    except (BadName, ValueError) as exc:
        raise CliError(str(exc)) from None
    return url, config


def _connect(url: RedisUrl) -> Any:
    from crawler.scaleout.redis_url import RedisUrlError

    try:
        return url.connect(decode_responses=True)
    except RedisUrlError as exc:
        raise CliError(str(exc)) from None


def _registry(args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    from crawler.cli.recurring import _load, _registry_path

    return _registry_path(args), _load(args)


# -- worker ---------------------------------------------------------------------------------------------------

def cmd_worker(args: argparse.Namespace) -> int:
    from crawler.scaleout.keys import BadName, check_name, sanitize_host

    if args.max_jobs < 0:
        raise CliError(f"--max-jobs expects a number >= 0, got {args.max_jobs}")
    url, config = _queue_setup(args, machine=args.machine)
    try:
        worker_id = check_name(args.worker_id or f"w{os.getpid()}", "--worker-id")
    except BadName as exc:
        raise CliError(str(exc)) from None
    registry, _portals = _registry(args)
    _connect(url).close()
    from crawler.scaleout.worker import WorkerOptions, configure_logging, run_worker

    root = Path(args.archive_root)
    check_writable_dir(root, "archive root")
    configure_logging()
    from crawler.cli.recurring import crawl_command

    def command(portal: str, expect_last_run: int, settings: list[str]) -> list[str]:
        """run-due's crawl command line for one portal, with the job's settings."""
        return crawl_command(argparse.Namespace(portals=str(registry.resolve()), archive_root=str(root.resolve()),
                                                state=None, set=settings), portal, expect_last_run)

    return run_worker(WorkerOptions(url=url, config=config, worker_id=worker_id,
                                    host=sanitize_host(socket.gethostname()), registry=registry.resolve(),
                                    archive_root=root.resolve(), overrides=list(args.set or []),
                                    crawl_command=command, max_jobs=args.max_jobs))


# -- run-due --queue --------------------------------------------------------------------------------------------

def cmd_run_due_queue(args: argparse.Namespace) -> int:
    """Queue the due portals on their machines' queues instead of crawling them here."""
    if args.parallel != 1:
        raise CliError("--parallel does not apply with --queue: each worker runs one portal at a time "
                       "(start more workers)")
    if args.state:
        raise CliError("--state does not apply with --queue: each portal's state is on its worker's disk")
    url, config = _queue_setup(args)
    _registry_file, portals = _registry(args)
    client = _connect(url)
    from crawler.scaleout.broker import make_broker
    from crawler.scaleout.enqueue import enqueue_due

    broker = make_broker(url, config.keys, heartbeat_timeout=config.heartbeat_timeout,
                         max_retries=config.max_retries, min_backoff=config.retry_backoff,
                         max_backoff=config.retry_backoff_max)
    try:
        results = enqueue_due(client, broker, config, portals)
    finally:
        broker.close()
    if not results:
        print("no portal is due")
    for item in results:
        where = f" on {item.machine}" if item.machine else ""
        print(f"{item.portal}: {item.status}{where}", flush=True)
    if any(item.status == "no live worker" for item in results):
        print("no live worker to assign new portals to: start `crawler worker --queue ...` on a machine")
        return EXIT_CRAWL_PROBLEM
    return EXIT_OK


# -- queue-status -----------------------------------------------------------------------------------------------

def cmd_queue_status(args: argparse.Namespace) -> int:
    url, config = _queue_setup(args)
    from crawler.scaleout.status import status_lines

    for line in status_lines(_connect(url), config):
        print(line)
    return EXIT_OK


# -- reassign ---------------------------------------------------------------------------------------------------

def cmd_reassign(args: argparse.Namespace) -> int:
    """Move a portal to another machine once its directory (WARCs, state, JSONL) is there."""
    from crawler.scaleout.assign import reassign
    from crawler.scaleout.keys import BadName

    url, config = _queue_setup(args)
    _registry_file, portals = _registry(args)
    if args.portal not in portals:
        raise CliError(f"no portal {args.portal!r} in the registry (registered: {', '.join(portals) or 'none'})")
    client = _connect(url)
    try:
        old = reassign(client, config.keys, args.portal, args.machine)
    except BadName as exc:
        raise CliError(str(exc)) from None
    print(f"{args.portal}: {old or 'unassigned'} -> {args.machine}; its next run-due --queue queues it there")
    return EXIT_OK


def register(sub: Any) -> None:
    """Add ``worker`` and ``queue-status``, and ``--queue`` to ``run-due`` (which keeps its own path without it)."""
    worker = sub.add_parser("worker", help="run portal-run jobs from this machine's queue (docs/scaleout.md)")
    worker.add_argument("--queue", required=True, help=QUEUE_HELP)
    worker.add_argument("--machine", default=None,
                        help="this machine's name: its queue and the portals assigned to it "
                             "(default: SCALEOUT_MACHINE, else the host name)")
    worker.add_argument("--worker-id", default=None, help="this process's name in leases and WARC file names "
                        "(default: w<pid>)")
    worker.add_argument("--portals", default=None, help="portal registry (default: PORTAL_REGISTRY, portals.toml)")
    worker.add_argument("--archive-root", default="output", help="portal P is archived in ROOT/P on this machine")
    worker.add_argument("--max-jobs", type=int, default=0, help="stop after this many jobs (default 0: never)")
    worker.add_argument("--set", action="append", metavar="NAME=VALUE",
                        help="override a setting, for the worker (SCALEOUT_*) and its crawls")
    worker.set_defaults(func=cmd_worker)

    status = sub.add_parser("queue-status", help="machines, queue depths, leases and each portal's last job")
    status.add_argument("--queue", required=True, help=QUEUE_HELP)
    status.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a setting (SCALEOUT_*)")
    status.set_defaults(func=cmd_queue_status)

    move = sub.add_parser("reassign", help="move a portal to another machine (after moving its directory there)")
    move.add_argument("portal", help="the portal id")
    move.add_argument("machine", help="the machine that holds its directory now")
    move.add_argument("--queue", required=True, help=QUEUE_HELP)
    move.add_argument("--portals", default=None, help="portal registry (default: PORTAL_REGISTRY, portals.toml)")
    move.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a setting (SCALEOUT_*)")
    move.set_defaults(func=cmd_reassign)

    run_due = sub.choices["run-due"]
    run_due.add_argument("--queue", default=None,
                         help=f"queue the due portals for `crawler worker` instead of crawling here; {QUEUE_HELP}")
    local = run_due.get_default("func")

    def run_due_either(args: argparse.Namespace) -> int:
        return cmd_run_due_queue(args) if args.queue is not None else int(local(args))

    run_due.set_defaults(func=run_due_either)
