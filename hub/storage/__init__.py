"""Storage: the shared log, cursors, each consumer's spool, dead letters."""
