"""hub.storage.archive.schema and .compare: our tables are datanommer.models 1.5.0's."""

from __future__ import annotations

from pathlib import Path

import datanommer.models as dm
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.dialects import postgresql, sqlite

from hub.storage.archive.compare import TableShape, differences, expected, reflect
from hub.storage.archive.schema import DATANOMMER_HEAD, TABLES, build


def _datanommer_tables() -> set[str]:
    return set(dm.DeclarativeBase.metadata.tables)


def test_same_five_tables_as_datanommer() -> None:
    """datanommer's metadata declares exactly the tables ours does."""
    assert _datanommer_tables() == set(TABLES) == set(build("postgresql").metadata.tables)


def test_postgresql_shape_equals_datanommers_metadata() -> None:
    """On PostgreSQL every column type, nullability, key, unique, index and FK is theirs."""
    dialect = postgresql.dialect()
    theirs = expected(dm.DeclarativeBase, dialect)  # type: ignore[arg-type]
    ours = expected(build("postgresql"), dialect)
    assert ours == theirs
    assert differences(theirs, ours) == []
    assert ours["messages"].indexes["ix_messages_headers"] == (("headers",), False, "gin")
    assert ours["messages"].uniques == {("msg_id", "timestamp")}


def test_sqlite_shape_equals_datanommers_but_for_headers_type() -> None:
    """On SQLite all but one thing is theirs: headers is JSON (theirs, JSONB, cannot compile)."""
    dialect = sqlite.dialect()
    theirs = expected(dm.DeclarativeBase, postgresql.dialect())  # type: ignore[arg-type]
    ours = expected(build("sqlite"), dialect)
    pg_types = {"JSONB": "JSON", "TIMESTAMP WITHOUT TIME ZONE": "DATETIME"}
    for shape in theirs.values():
        shape.columns = {c: (pg_types.get(t, t), n, k) for c, (t, n, k) in shape.columns.items()}
    for shape in theirs.values():
        shape.indexes = {i: (c, u, "btree") for i, (c, u, _m) in shape.indexes.items()}
    assert ours == theirs


def test_created_sqlite_database_reflects_as_expected(tmp_path: Path) -> None:
    """Tables created from our metadata reflect back to the shape the mismatch check expects."""
    schema = build("sqlite")
    engine = create_engine(f"sqlite:///{tmp_path / 'a.sqlite'}")
    schema.metadata.create_all(engine)
    with engine.connect() as conn:
        assert differences(expected(schema, conn.dialect), reflect(conn)) == []
    engine.dispose()


def test_head_revision_is_datanommers_alembic_head() -> None:
    """The revision we stamp is the head of datanommer.models' own alembic scripts."""
    scripts = ScriptDirectory(str(Path(dm.__file__).parent / "alembic"))
    assert scripts.get_current_head() == DATANOMMER_HEAD


def test_differences_name_table_and_column() -> None:
    """Each kind of difference is one phrase naming the table and the column or index."""
    want = {"messages": TableShape(columns={"a": ("TEXT", True, False), "b": ("INT", False, True)},
                                   uniques={("a", "b")},
                                   indexes={"ix_a": (("a",), False, "btree")}),
            "users": TableShape()}  # fmt: skip
    have = {"messages": TableShape(columns={"a": ("VARCHAR", False, False),
                                            "c": ("INT", True, False)})}  # fmt: skip
    assert differences(want, have) == [
        "table messages: column a is VARCHAR, expected TEXT",
        "table messages: column a is NOT NULL, expected NULL",
        "table messages: column b is missing",
        "table messages: column c is not in datanommer's schema",
        "table messages: unique (a, b) is missing",
        "table messages: index ix_a is missing",
        "table users is missing",
    ]
