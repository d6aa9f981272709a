"""hub.config.archive: status.archive_raw names an enabled archive consumer, on a loopback-only
status endpoint; every refusal names the key and what would be valid."""

from __future__ import annotations

from typing import Any

import pytest

from hub.config import config_from_dict
from hub.config.archive import archive_consumers, is_loopback
from hub.errors import ConfigError


def _config(status: dict[str, Any], **consumers: dict[str, Any]) -> Any:
    return config_from_dict({"endpoints": ["tcp://a:1"], "status": status,
                             "consumers": consumers}, "hub.yaml")  # fmt: skip


ARCHIVE = {"class": "archive"}


def test_off_by_default_and_on_for_an_archive_consumer() -> None:
    """archive_raw is null unless set; set to an archive consumer's name it loads."""
    assert _config({}).status.archive_raw is None
    config = _config({"archive_raw": "arch"}, arch=ARCHIVE, log={"class": "log"})
    assert config.status.archive_raw == "arch"
    by_path = _config({"archive_raw": "a2"}, a2={"class": "consumers.archive:Archive"})
    assert archive_consumers(by_path) == ["a2"]


@pytest.mark.parametrize(("status", "consumers", "message"), [
    ({"archive_raw": "log"}, {"log": {"class": "log"}, "a": ARCHIVE, "b": ARCHIVE},
     "hub.yaml: status.archive_raw: 'log' is not an enabled archive consumer (class: archive); "
     "the config has archive consumers: a, b; or null for no /archive/raw"),
    ({"archive_raw": "gone"}, {}, "the config has no archive consumer"),
    ({"archive_raw": "a"}, {"a": {**ARCHIVE, "enabled": False}}, "the config has no archive"),
    ({"archive_raw": "a", "host": "0.0.0.0"}, {"a": ARCHIVE},
     "status.archive_raw: /archive/raw answers loopback clients only: status.host must be a "
     "loopback address (127.0.0.1, ::1, localhost), not '0.0.0.0'"),
    ({"archive_raw": "a", "host": "hub.example.org"}, {"a": ARCHIVE}, "not 'hub.example.org'"),
])  # fmt: skip
def test_refusals_name_the_key_and_the_valid_values(
    status: dict[str, Any], consumers: dict[str, Any], message: str
) -> None:
    """Not an (enabled) archive consumer: the valid names listed; a non-loopback host: refused."""
    with pytest.raises(ConfigError) as caught:
        _config(status, **consumers)
    assert message in str(caught.value)


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.3.4.5", True), ("::1", True), ("[::1]", True),
    ("localhost", True), ("::ffff:127.0.0.1", True), ("0.0.0.0", False), ("::", False),
    ("10.0.0.1", False), ("128.0.0.1", False), ("example.org", False),
])  # fmt: skip
def test_loopback_is_127_0_0_0_8_and_1(host: str, loopback: bool) -> None:
    """127.0.0.0/8, ::1 (bracketed or IPv4-mapped) and localhost; nothing else."""
    assert is_loopback(host) is loopback
