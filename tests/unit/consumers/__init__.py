"""Unit tests of the built-in consumers in consumers/."""
