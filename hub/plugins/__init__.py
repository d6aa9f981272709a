"""Plugins: finding, validating and instantiating consumer classes.

No code runs here: each module's docstring names the thread its code runs on.
"""
