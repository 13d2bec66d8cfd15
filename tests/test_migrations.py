"""Migrations: one head, and upgrading an empty database gives exactly the schema the models describe."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from app import MIGRATIONS_DIR, create_app
from app.extensions import db
from tests import support
from tests.conftest import require

ALEMBIC_BOOKKEEPING = {"alembic_version"}


@contextmanager
def logging_left_as_found() -> Iterator[None]:
    """migrations/env.py calls logging.config.fileConfig(), which disables every logger that exists and
    replaces the root handlers; put them back so later tests in this process still see (and caplog) logs."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    loggers = {name: (logger.disabled, logger.level) for name, logger in logging.Logger.manager.loggerDict.items()
               if isinstance(logger, logging.Logger)}
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        for handler in handlers:
            if handler not in root.handlers:
                root.addHandler(handler)
        root.setLevel(level)
        for name, logger in logging.Logger.manager.loggerDict.items():
            if isinstance(logger, logging.Logger):
                logger.disabled, logger.level = loggers.get(name, (False, logger.level))


def upgrade(revision: str = "head") -> None:
    with logging_left_as_found():
        flask_migrate.upgrade(revision=revision)


def downgrade(revision: str) -> None:
    with logging_left_as_found():
        flask_migrate.downgrade(revision=revision)


def schema_differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "render_as_batch": True})
        return compare_metadata(context, db.metadata)


def user_tables() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - ALEMBIC_BOOKKEEPING


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_app(request, tmp_path):
    """An app on an EMPTY database (no create_all): the migrations alone must build the schema."""
    pg_name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrations.db'}"
    else:
        require(support.postgres_unavailable_reason())
        pg_name, url = support.create_pg_database("qd_migrations")
    application = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True}, env=support.TEST_ENV)
    try:
        with application.app_context():
            assert user_tables() == set()
            yield application
            db.session.remove()
            db.engine.dispose()
    finally:
        if pg_name:
            support.drop_pg_database(pg_name)


def test_the_migrations_have_exactly_one_head():
    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several Alembic heads: {heads}; merge them"


def test_upgrading_an_empty_database_matches_the_models(empty_db_app):
    upgrade()
    assert user_tables() == {table.name for table in db.metadata.sorted_tables}
    assert schema_differences() == []


def test_downgrading_to_base_leaves_no_tables(empty_db_app):
    upgrade()
    downgrade("base")
    assert user_tables() == set()


def test_the_migrations_can_be_replayed_after_a_downgrade(empty_db_app):
    upgrade()
    downgrade("base")
    upgrade()
    assert schema_differences() == []
