"""What a crawl says about itself: the accounting of every release URL (``ledger``), the verdict (``verdict``), and
the run's report (``report.json`` + ``report.html``: ``build``, ``charts``, ``html``), live and from the outputs."""
