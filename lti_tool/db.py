"""Database engine and session life cycle for one app.

One ``Database`` per app; a request gets one session (``db_session()``) that
is closed on teardown. Schema changes go through Alembic (``lms-bridge db
upgrade``); nothing creates tables behind the operator's back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from flask import Flask, current_app, g
from sqlalchemy import DateTime, MetaData, String, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


intpk = Annotated[int, mapped_column(primary_key=True)]
url = Annotated[str, mapped_column(String(2048))]
short = Annotated[str, mapped_column(String(255))]
created = Annotated[datetime, mapped_column(DateTime(timezone=True), default=utcnow)]


def make_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(database_url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """Engine + session factory bound to one app."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.engine = make_engine(database_url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def init_app(self, app: Flask) -> None:
        app.extensions["lms_bridge_db"] = self

        @app.teardown_appcontext
        def _close(exc: BaseException | None) -> None:
            session: Session | None = g.pop("db_session", None)
            if session is not None:
                if exc is not None:
                    session.rollback()
                session.close()


def get_database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["lms_bridge_db"]


def db_session() -> Session:
    """The current app context's session (created on first use)."""
    if "db_session" not in g:
        g.db_session = get_database().sessions()
    return g.db_session


MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "heads") -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)
