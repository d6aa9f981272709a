"""The status page at ``/`` on the status endpoint: per-consumer table, charts, live updates.

`hub.observe.page.site.StatusPage` is the `hub.observe.status.Extra` that serves it; every module
here runs on the reactor thread (the static files are read once, at import).
"""
