"""The `consumer-hub` command and its sub-commands."""
