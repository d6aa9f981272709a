"""What an archive database's tables look like, and how they differ from the schema we expect.

Runs on the archive consumer's worker thread, inside `ArchiveStore.open()`'s transaction. A
table's shape is what matters to datanommer's code and migrations: each column's name, type
(as the backend spells it), nullability and primary-key membership; the unique constraints (by
columns: SQLite does not name them); the indexes by name, with their columns, uniqueness and
access method; the foreign keys. Indexes the database has beyond ours are tolerated (a site may
have tuned its own; TimescaleDB adds one on ``timestamp``); every other difference is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, inspect
from sqlalchemy.engine import Dialect

from hub.storage.archive.schema import TABLES, Schema


@dataclass
class TableShape:
    """One table as the tests and the mismatch check compare it."""

    columns: dict[str, tuple[str, bool, bool]] = field(default_factory=dict)  # type, null, pk
    uniques: set[tuple[str, ...]] = field(default_factory=set)
    indexes: dict[str, tuple[tuple[str, ...], bool, str]] = field(default_factory=dict)
    foreign_keys: set[tuple[tuple[str, ...], str, tuple[str, ...]]] = field(default_factory=set)


def _method(options: dict[str, Any]) -> str:
    """An index's access method; ``btree`` when none is named (the default everywhere)."""
    return str(options.get("postgresql_using") or "btree")


def reflect(conn: Connection) -> dict[str, TableShape]:
    """The shape of each of the archive's tables present in the database behind ``conn``."""
    inspector = inspect(conn)
    present = set(inspector.get_table_names())
    shapes = {}
    for name in (t for t in TABLES if t in present):
        shape = TableShape()
        pk = set(inspector.get_pk_constraint(name)["constrained_columns"])
        for col in inspector.get_columns(name):
            kind = col["type"].compile(dialect=conn.dialect)
            shape.columns[col["name"]] = (kind, bool(col["nullable"]), col["name"] in pk)
        for uc in inspector.get_unique_constraints(name):
            shape.uniques.add(tuple(uc["column_names"]))
        for ix in inspector.get_indexes(name):
            if "duplicates_constraint" in ix or ix["name"] is None:
                continue  # the index behind a unique constraint: compared as the constraint
            cols = tuple(str(c) for c in ix["column_names"])
            options = ix.get("dialect_options", {})
            shape.indexes[ix["name"]] = (cols, bool(ix["unique"]), _method(options))
        for fk in inspector.get_foreign_keys(name):
            shape.foreign_keys.add((tuple(fk["constrained_columns"]), fk["referred_table"],
                                    tuple(fk["referred_columns"])))  # fmt: skip
        shapes[name] = shape
    return shapes


def expected(schema: Schema, dialect: Dialect) -> dict[str, TableShape]:
    """The shape ``schema``'s tables have once created on ``dialect``."""
    return {name: _shape(schema.metadata.tables[name], dialect) for name in TABLES}


def _shape(table: Table, dialect: Dialect) -> TableShape:
    shape = TableShape()
    for col in table.columns:
        kind = col.type.compile(dialect=dialect)
        shape.columns[col.name] = (kind, bool(col.nullable), bool(col.primary_key))
    for constraint in table.constraints:
        if constraint.__visit_name__ == "unique_constraint":
            shape.uniques.add(tuple(c.name for c in constraint.columns))  # type: ignore[attr-defined]
    for ix in table.indexes:
        using = ix.dialect_options["postgresql"]["using"] if dialect.name == "postgresql" else None
        cols = tuple(c.name for c in ix.columns)
        shape.indexes[str(ix.name)] = (cols, bool(ix.unique), _method({"postgresql_using": using}))
    for fk in table.foreign_keys:
        shape.foreign_keys.add(((fk.parent.name,), fk.column.table.name, (fk.column.name,)))
    return shape


def differences(want: dict[str, TableShape], have: dict[str, TableShape]) -> list[str]:
    """Each way ``have`` differs from ``want``, one phrase each, naming table and column."""
    found = []
    for name, shape in want.items():
        if name not in have:
            found.append(f"table {name} is missing")
        else:
            found += [f"table {name}: {d}" for d in _table_differences(shape, have[name])]
    return found


def _table_differences(want: TableShape, have: TableShape) -> list[str]:
    found = []
    for col, (kind, null, pk) in want.columns.items():
        got = have.columns.get(col)
        if got is None:
            found.append(f"column {col} is missing")
            continue
        if got[0] != kind:
            found.append(f"column {col} is {got[0]}, expected {kind}")
        if got[1] != null:
            found.append(f"column {col} is {_null(got[1])}, expected {_null(null)}")
        if got[2] != pk:
            found.append(f"column {col} is {_pk(got[2])} the primary key, expected {_pk(pk)}")
    found += [f"column {col} is not in datanommer's schema"
              for col in have.columns if col not in want.columns]  # fmt: skip
    found += [f"unique ({', '.join(u)}) is missing" for u in sorted(want.uniques - have.uniques)]
    found += [f"unique ({', '.join(u)}) is not in datanommer's schema"
              for u in sorted(have.uniques - want.uniques)]  # fmt: skip
    for ix, spec in want.indexes.items():
        if ix not in have.indexes:
            found.append(f"index {ix} is missing")
        elif have.indexes[ix] != spec:
            found.append(f"index {ix} is {_index(have.indexes[ix])}, expected {_index(spec)}")
    found += [f"foreign key {fk[0]} -> {fk[1]}{fk[2]} is missing"
              for fk in sorted(want.foreign_keys - have.foreign_keys)]  # fmt: skip
    return found


def _null(nullable: bool) -> str:
    return "NULL" if nullable else "NOT NULL"


def _pk(member: bool) -> str:
    return "in" if member else "not in"


def _index(spec: tuple[tuple[str, ...], bool, str]) -> str:
    cols, unique, method = spec
    return f"{'unique ' if unique else ''}{method} on ({', '.join(cols)})"
