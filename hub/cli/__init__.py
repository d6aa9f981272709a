"""The `consumer-hub` command and its sub-commands.

No code runs here: each module's docstring names the thread its code runs on.
"""
