"""Database behaviour every domain relies on: aware UTC timestamps on both backends, SQLite tuned for safety."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from app import create_app
from app.auth.models import User
from app.extensions import db
from tests import support


def test_timestamps_come_back_aware_utc_whatever_zone_they_went_in_with(app, make_user):
    user = make_user("responder")
    manila_noon = datetime(2026, 11, 22, 12, 0, tzinfo=timezone(timedelta(hours=8)))
    user.last_login_at = manila_noon
    db.session.commit()
    db.session.expire_all()

    stored = db.session.get(User, user.id).last_login_at

    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored == manila_noon  # the same instant
    assert (stored.hour, stored.day) == (4, 22)  # shown in UTC


def test_a_naive_timestamp_is_refused_instead_of_guessed(app, make_user):
    user = make_user("responder")
    user.last_login_at = datetime(2026, 11, 22, 12, 0)
    with pytest.raises(Exception, match="naive"):
        db.session.commit()
    db.session.rollback()


def test_the_sqlite_database_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'qd.db'}"}, env=support.TEST_ENV)
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 1000
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        db.engine.dispose()


def test_foreign_keys_are_enforced_on_both_backends(app, make_user):
    user = make_user("responder")
    user.region_id = 9999  # no such region
    with pytest.raises(Exception, match="(?i)foreign key"):
        db.session.commit()
    db.session.rollback()


def test_the_default_database_is_a_sqlite_file_in_instance_whose_folder_is_created(tmp_path):
    target = tmp_path / "nested" / "instance" / "quarterdeck.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{target}"}, env=support.TEST_ENV)
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    assert target.exists()
