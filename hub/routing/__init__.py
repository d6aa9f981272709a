"""Routing: topic globs, the enqueuer that fans a batch out to consumers' backlogs.

No code runs here: each module's docstring names the thread its code runs on.
"""
