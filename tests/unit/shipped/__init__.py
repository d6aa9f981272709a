"""Unit tests of what ships beside the package: the collectd plugin, the Grafana dashboard and
the Prometheus rules."""
