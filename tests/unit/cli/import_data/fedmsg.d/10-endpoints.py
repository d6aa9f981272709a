"""More endpoints and a later value for an earlier key (a fixture)."""

hosts = [f"tcp://bodhi{n}.example.org:3000" for n in (1, 2)]

config = {
    "endpoints": {"bodhi": hosts},
    "moksha.workers_per_consumer": 2,
    "status_directory": "/var/run/fedmsg/status",
    "datagrepper_url": "https://apps.example.org/datagrepper/raw",
    "irc": {"port": 6697},
}
