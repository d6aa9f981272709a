"""Routing: topic globs, the enqueuer that fans a batch out to consumers' backlogs."""
