"""The archive's tables: datanommer.models 1.5.0's schema, written as SQLAlchemy Core tables.

Definitions only (no I/O); used on the archive consumer's worker thread. These are our own
definitions of the same tables datanommer's ORM classes declare (``messages``, ``users``,
``packages``, ``users_messages``, ``packages_messages``): the same column names, types,
nullability, primary keys (``messages`` is keyed on ``(id, timestamp)``, as a TimescaleDB
hypertable partitioned on ``timestamp`` needs), the unique ``(msg_id, timestamp)`` constraint,
and the same indexes under the same names. Timestamps are ``TIMESTAMP WITHOUT TIME ZONE``
holding UTC. ``msg`` is JSON text (datanommer's ``json.dumps`` of the body); ``headers`` is
``JSONB`` on PostgreSQL (``JSON`` on SQLite). The tests compare these tables, reflected from a
database, with a database made by datanommer.models' own metadata.

Column defaults of datanommer's that live in Python (``source_name``, ``source_version``) are
not part of a schema; the store fills those values itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Unicode,
    UnicodeText,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql

# datanommer.models 1.5.0's alembic head ("Add view recent_topics"): stamped into a new archive
# so that datanommer's own migrations can run on it later
DATANOMMER_HEAD = "f4fdb5442d05"
RECENT_TOPICS = "recent_topics"  # datanommer's materialized view (PostgreSQL only)
_HEADERS = JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")


@dataclass(frozen=True)
class Schema:
    """The five tables in one `MetaData`, for one backend."""

    metadata: MetaData
    messages: Table
    users: Table
    packages: Table
    users_messages: Table
    packages_messages: Table


def _named(name: str, metadata: MetaData) -> Table:
    """``users`` / ``packages``: one row per name, ``name`` unique."""
    return Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("name", UnicodeText, index=True, unique=True),
    )


def _messages(metadata: MetaData, serial: bool) -> Table:
    """``messages``; ``serial``: ``id`` takes its value from a sequence (PostgreSQL)."""
    return Table(
        "messages",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=serial),
        Column("msg_id", Unicode, nullable=True, index=True),
        Column("i", Integer, nullable=False),
        Column("topic", Unicode, nullable=False, index=True),
        Column("timestamp", DateTime, nullable=False, index=True, primary_key=True),
        Column("certificate", UnicodeText),
        Column("signature", UnicodeText),
        Column("category", Unicode, nullable=False, index=True),
        Column("agent_name", Unicode, index=True),
        Column("crypto", UnicodeText),
        Column("source_name", Unicode),
        Column("source_version", Unicode),
        Column("msg", UnicodeText, nullable=False),
        Column("headers", _HEADERS),
        UniqueConstraint("msg_id", "timestamp"),
        Index(
            "ix_messages_headers",
            "headers",
            postgresql_using="gin",
            postgresql_ops={"headers": "jsonb_path_ops"},
        ),
    )


def _link(name: str, key: str, target: str, metadata: MetaData) -> Table:
    """``users_messages`` / ``packages_messages``: which names a message concerns. Keyed on the
    message's ``(id, timestamp)`` with no foreign key to ``messages`` (as datanommer's)."""
    return Table(
        name,
        metadata,
        Column(key, ForeignKey(f"{target}.id"), primary_key=True),
        Column("msg_id", Integer, primary_key=True, index=True),
        Column("msg_timestamp", DateTime, primary_key=True, index=True),
    )


def build(dialect: str) -> Schema:
    """The tables for ``dialect`` ("postgresql" or "sqlite"). They differ in one thing that is
    not schema: SQLite cannot draw ``messages.id`` of a two-column primary key from a sequence,
    so there the store assigns ids itself."""
    metadata = MetaData()
    return Schema(
        metadata=metadata,
        messages=_messages(metadata, serial=dialect != "sqlite"),
        users=_named("users", metadata),
        packages=_named("packages", metadata),
        users_messages=_link("users_messages", "user_id", "users", metadata),
        packages_messages=_link("packages_messages", "package_id", "packages", metadata),
    )


TABLES = ("messages", "users", "packages", "users_messages", "packages_messages")

# alembic's own bookkeeping table, as alembic creates it; not part of datanommer's metadata
alembic_metadata = MetaData()
alembic_version = Table(
    "alembic_version",
    alembic_metadata,
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)

# datanommer's materialized view: topics seen in the last year, with counts (our own SQL)
RECENT_TOPICS_DDL = (
    f"CREATE MATERIALIZED VIEW IF NOT EXISTS {RECENT_TOPICS} AS "
    "SELECT messages.topic, count(*) AS message_count, min(messages.timestamp) AS earliest, "
    "max(messages.timestamp) AS latest FROM messages "
    "WHERE messages.timestamp >= NOW() - INTERVAL '1 year' GROUP BY messages.topic",
    f"CREATE UNIQUE INDEX IF NOT EXISTS uq_recent_topics_topic ON {RECENT_TOPICS} (topic)",
    f"CREATE INDEX IF NOT EXISTS ix_recent_topics_message_count ON {RECENT_TOPICS} (message_count)",
)
