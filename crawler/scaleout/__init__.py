"""Many machines: portal runs as jobs on a Redis-backed Dramatiq queue (docs/scaleout.md).

The unit of work is one portal run (``crawler crawl --portal ID``), never a request. Modules, one job each:

- ``redis_url``  the ``--queue redis://…`` value: validated, connected, password kept out of messages
- ``keys``       every Redis key and queue name, under one namespace
- ``lease``      one run per portal cluster-wide: a lease with a fencing token
- ``fencing``    the token checked inside the portal's SQLite state before anything is committed
- ``child``      the crawl as a child process that dies with its worker (PR_SET_PDEATHSIG, own process group)
- ``broker``     the Dramatiq broker: JSON messages, explicit heartbeats, dead-worker requeue
- ``assign``     stickiness: which machine holds a portal's directory and state
- ``job``        one portal-run job: attempts, lease, crawl, run record
- ``enqueue``    ``run-due --queue``: the due portals onto their machines' queues
- ``worker``     ``crawler worker``: one job at a time from this machine's queue
- ``ratelimit``  the per-host request rate shared by every worker (a downloader middleware)
- ``status``     what an operator monitors: queues, leases, machines, last runs

Nothing here is imported by a plain ``crawl`` or ``run-due``: Redis and Dramatiq load only on these paths.
"""
