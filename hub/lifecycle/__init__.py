"""Lifecycle: the service's start and stop order, reload, systemd, the process."""
