"""Storage: the shared log, cursors, each consumer's spool, dead letters.

No code here; each module's docstring names the thread(s) its code runs on.
"""
