"""Indexing a runbook folder: files added, changed, renamed and deleted; invalid files listed with their reason."""
from __future__ import annotations

import os

import pytest
from markupsafe import escape
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.runbooks import reviews
from app.runbooks.models import Runbook
from app.runbooks.services import get_runbook, start_run_for
from app.runbooks.sync import sync_runbooks
from config import ConfigError
from tests.runbooks.support import STEPS, bump, make_job, write
from tests.support import TEST_ENV


def indexed() -> dict[str, Runbook]:
    return {row.path: row for row in db.session.scalars(select(Runbook))}


def test_a_new_file_is_indexed_with_its_front_matter_and_steps(folder, owner, sync):
    write(folder, "restart.md", owner=owner.email, systems=["Billing"], version='"2"')
    summary = sync()
    row = indexed()["restart.md"]
    assert (summary.added, row.slug, row.valid, row.owner_id) == (1, "restart", True, owner.id)
    assert row.names("systems") == ["Billing"] and row.field("version") == "2" and row.review_every_days == 90
    assert row.step_titles == ["Check the job's log", "Restart the job", "Watch the next run"]
    assert len(row.content_hash) == 64


def test_an_unchanged_folder_changes_nothing(folder, owner, sync):
    write(folder, "restart.md", owner=owner.email)
    sync()
    before = indexed()["restart.md"].changed_at
    summary = sync()
    assert (summary.added, summary.changed, summary.unchanged) == (0, 0, 1)
    assert indexed()["restart.md"].changed_at == before


def test_a_changed_file_gets_a_new_hash_and_lapses_acknowledgements(folder, owner, sync):
    write(folder, "restart.md", owner=owner.email, acknowledge=["crisis_team"])
    sync()
    runbook = get_runbook("restart")
    reviews.acknowledge(runbook, user=owner)
    old_hash = runbook.content_hash
    assert reviews.current_acknowledgement(runbook, owner.id) is not None

    write(folder, "restart.md", body=STEPS + "4. Tell the crisis team\n", owner=owner.email, acknowledge=["crisis_team"])
    assert sync().changed == 1
    runbook = get_runbook("restart")
    assert runbook.content_hash != old_hash and len(runbook.step_titles) == 4
    assert reviews.current_acknowledgement(runbook, owner.id) is None  # lapsed: they read the old version
    assert reviews.acknowledgement_status(runbook) == [(owner, False)]


def test_a_touched_file_with_the_same_content_is_not_a_change(folder, owner, sync):
    path = write(folder, "restart.md", owner=owner.email)
    sync()
    bump(path)
    assert sync().changed == 0


def test_a_renamed_file_keeps_its_history(folder, owner, sync):
    path = write(folder, "restart.md", owner=owner.email)
    sync()
    run = start_run_for("restart", by=owner)
    path.rename(folder / "billing-restart.md")
    summary = sync()
    assert (summary.renamed, summary.added, summary.removed) == (1, 0, 0)
    row = indexed()["billing-restart.md"]
    assert row.slug == "billing-restart" and row.id == run.runbook_id and "restart.md" not in indexed()


def test_a_deleted_file_is_marked_removed_and_its_page_is_gone(folder, owner, sync, login_as):
    path = write(folder, "restart.md", owner=owner.email)
    sync()
    path.unlink()
    assert sync().removed == 1
    assert indexed()["restart.md"].removed_at is not None
    assert login_as("responder").get("/runbooks/restart").status_code == 404
    write(folder, "restart.md", owner=owner.email)  # it comes back: the same row, alive again
    sync()
    assert indexed()["restart.md"].removed_at is None


@pytest.mark.parametrize("text, reason, line", [
    ("no front matter here\n", "no front matter", 1),
    ("---\ntitle: [unclosed\nowner: a@b\n---\n", "not valid YAML", 3),  # where the parser gives up
    ("---\ntitle: T\nowner: olive@example.com\n", "not closed", 4),
    ("---\n- a list\n---\n", "set of 'key: value'", 2),
    ("---\ntitle: T\nowner: olive@example.com\nreview_every: sometimes\n---\n", "review_every", 4),
    ("---\ntitle: T\nowner: nobody@example.com\nreview_every: 30d\n---\n", "not a Quarterdeck user", 3),
    ("---\ntitle: T\nowner: olive@example.com\nreview_every: 30d\njobs: [no-such-job]\n---\n", "unknown job", 5),
    ("---\ntitle: T\nowner: olive@example.com\nreview_every: 30d\nacknowledge: [pilots]\n---\n",
     "neither a role nor a rotation", 5),
], ids=["missing", "bad-yaml", "unclosed", "not-a-mapping", "cadence", "unknown-owner", "unknown-job", "unknown-reader"])
def test_an_invalid_file_is_listed_with_its_reason_and_line(folder, owner, sync, login_as, text, reason, line):
    (folder / "broken.md").write_text(text, encoding="utf-8")
    assert sync().invalid == 1
    row = indexed()["broken.md"]
    assert not row.valid and reason in row.invalid_reason and row.invalid_line == line
    client = login_as("responder")
    catalog = client.get("/runbooks").get_data(as_text=True)
    assert "broken.md" in catalog and str(escape(reason)) in catalog  # never hidden
    assert client.get("/runbooks/broken").status_code == 200  # and never a 500


def test_a_file_that_is_not_utf8_is_invalid(folder, owner, sync):
    (folder / "latin.md").write_bytes(b"---\ntitle: Caf\xe9\n---\n")
    sync()
    row = indexed()["latin.md"]
    assert not row.valid and "not UTF-8" in row.invalid_reason and row.invalid_line == 2


def test_a_file_turns_valid_once_its_owner_exists(folder, sync, make_user):
    write(folder, "restart.md", owner="later@example.com")
    sync()
    assert not indexed()["restart.md"].valid
    make_user("responder", email="later@example.com")
    sync()
    assert indexed()["restart.md"].valid


def test_a_job_is_named_by_its_slug_or_app_and_slug_and_patterns_need_not_match(folder, owner, sync):
    make_job("Billing", "Billing run")
    write(folder, "a.md", owner=owner.email, jobs=["billing-run", "billing/billing-run", "nothing-*"])
    sync()
    assert indexed()["a.md"].valid


def test_a_symbolic_link_leaving_the_folder_is_not_followed(folder, owner, sync, tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitle: Secret\nowner: olive@example.com\nreview_every: 30d\n---\nthe password is x\n")
    os.symlink(secret, folder / "leak.md")
    sync()
    row = indexed()["leak.md"]
    assert not row.valid and "outside RUNBOOKS_DIR" in row.invalid_reason and row.content_hash == ""
    assert row.title != "Secret"


def test_a_file_whose_name_gives_a_reserved_slug_is_invalid(folder, owner, sync):
    write(folder, "report.md", owner=owner.email)
    sync()
    row = indexed()["report.md"]
    assert not row.valid and "reserved" in row.invalid_reason


def test_a_missing_runbooks_dir_stops_start_up_naming_it(tmp_path):
    with pytest.raises(ConfigError, match="RUNBOOKS_DIR"):
        create_app(env={**TEST_ENV, "RUNBOOKS_DIR": str(tmp_path / "nowhere")})
    with pytest.raises(ConfigError, match="RUNBOOKS_DIR"):
        create_app({"RUNBOOKS_DIR": str(tmp_path / "nowhere")}, env=TEST_ENV)


def test_create_app_reads_no_runbook(tmp_path):
    folder = tmp_path / "sops"
    folder.mkdir()
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, env={**TEST_ENV, "RUNBOOKS_DIR": str(folder)})
    assert app.config["RUNBOOKS_DIR"] == str(folder.resolve())
    with app.app_context():
        db.create_all()
        assert db.session.scalar(select(Runbook.id)) is None  # nothing indexed until a sync


def test_two_schedulers_indexing_the_same_new_file_at_once_do_not_fail_the_job(app, folder, owner):
    """The second scheduler's sync loses the race on the unique path: its job rolls back and reports it,
    it does not raise (a scheduler's job log would show a traceback every start of a two-node setup)."""
    from sqlalchemy import event

    from app.runbooks.scheduled import sync_runbook_folder

    write(folder, "restart.md", owner=owner.email)
    raced = {"done": False}

    def the_other_scheduler_commits_first(_conn, _cursor, statement, *_args):
        if raced["done"] or not statement.lstrip().upper().startswith("SELECT") or "runbooks" not in statement:
            return
        raced["done"] = True
        with app.app_context():  # a session of its own, committed before ours writes
            sync_runbooks()
            db.session.remove()

    event.listen(db.engine, "after_cursor_execute", the_other_scheduler_commits_first)
    try:
        result = sync_runbook_folder()
    finally:
        event.remove(db.engine, "after_cursor_execute", the_other_scheduler_commits_first)
    assert raced["done"] and result == {"raced": 1}
    assert list(indexed()) == ["restart.md"]
