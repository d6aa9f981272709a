"""hub.config.fedmsg: a fedmsg.d/ read as fedmsg reads it, inline keys over it, clear errors."""

from __future__ import annotations

from pathlib import Path

import fedmsg.config
import pytest

from hub.config import config_from_dict
from hub.errors import ConfigError

BASE = {"endpoints": ["tcp://127.0.0.1:1"]}


def write(directory: Path, name: str, text: str) -> None:
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(text)


def test_a_fedmsg_dir_is_read_in_name_order_dicts_merged_inline_keys_win(tmp_path: Path) -> None:
    """Later files override earlier ones key by key (nested dicts merged), inline keys override
    the files, and fedmsg's own defaults are underneath: what fedmsg itself reads."""
    conf = tmp_path / "fedmsg.d"
    write(conf, "10-base.py", "config = dict(endpoints={'a': ['tcp://a:1']}, environment='stg')\n")
    write(conf, "20-more.py", "config = {'endpoints': {'b': ['tcp://b:2']}, 'x.enabled': True}\n")
    write(conf, "notes.txt", "config = {'ignored': True}\n")
    section = {"config_dir": str(conf), "environment": "prod"}
    got = config_from_dict({**BASE, "fedmsg": section}).fedmsg
    assert got["endpoints"] == {"a": ["tcp://a:1"], "b": ["tcp://b:2"]}
    assert (got["environment"], got["x.enabled"], "ignored" in got) == ("prod", True, False)
    with pytest.warns(DeprecationWarning):  # fedmsg 1.1.7 deprecates its own load_config
        theirs = fedmsg.config.load_config(filenames=sorted(map(str, conf.glob("*.py"))),
                                       invalidate_cache=True)  # fmt: skip
    assert {k: v for k, v in got.items() if k != "environment"} == {
        k: v for k, v in theirs.items() if k != "environment"}  # fmt: skip


@pytest.mark.parametrize(("text", "says"), [
    ("config = {", "SyntaxError"),
    ("x = 1\n", "defines no 'config' dict"),
])  # fmt: skip
def test_a_broken_config_file_is_one_error_naming_it(tmp_path: Path, text: str, says: str) -> None:
    """A file that does not run, or defines no config: ConfigError naming fedmsg.config_dir."""
    conf = tmp_path / "fedmsg.d"
    write(conf, "bad.py", text)
    with pytest.raises(ConfigError, match=f"fedmsg.config_dir: .*bad.py.*{says}"):
        config_from_dict({**BASE, "fedmsg": {"config_dir": str(conf)}})
    with pytest.raises(ConfigError, match="is not a directory"):
        config_from_dict({**BASE, "fedmsg": {"config_dir": str(tmp_path / "nope")}})
