"""Plugins: finding, validating and instantiating consumer classes."""
