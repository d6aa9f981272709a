"""Consumers written the way fedmsg, moksha and fedora-messaging users write them, against the
real libraries: the hub must run them unchanged (issue #15). Each runs on the hub's worker
threads; each records what it saw as JSON lines for the tests to read."""
