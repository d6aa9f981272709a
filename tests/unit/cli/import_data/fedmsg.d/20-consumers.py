"""Which consumers run: one on, one off (a fixture)."""

config = {
    "environment": "stg",
    "test.bodhi.enabled": True,
    "test.off.enabled": False,
}
