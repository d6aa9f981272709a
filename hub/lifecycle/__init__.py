"""Lifecycle: the service's start and stop order, reload, systemd, the process.

No code runs here: each module's docstring names the thread its code runs on.
"""
