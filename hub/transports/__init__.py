"""Transports: how messages reach the hub and leave it (ZeroMQ today).

No code runs here: each module's docstring names the thread its code runs on.
"""
