"""CSV export and import of the register: the round trip, updates by id, new rows, and the dry run."""
from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from app.errors import Invalid
from app.extensions import db
from app.risks import history
from app.risks import register_csv as csvio
from app.risks.register_csv import import_csv
from app.risks.models import Risk
from tests.conftest import csrf_token_from


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def write(rows: list[dict[str, str]], columns=csvio.COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({column: row.get(column, "") for column in columns} for row in rows)
    return out.getvalue()


def risk_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Risk))


@pytest.fixture
def two_risks(make_risk):
    return [make_risk(title="=SUM(A1) looks like a formula", exposure="1200000.5"),
            make_risk(title="Tax engine outage", likelihood=2, impact=2, description="Vendor, \"quoted\"\nlines")]


def test_an_export_imported_back_changes_nothing(app, two_risks):
    text = csvio.export_csv()
    assert rows_of(text)[0]["title"] == "'=SUM(A1) looks like a formula"  # a spreadsheet will not run it
    before = [history.score_history(risk)[-1].id for risk in two_risks]

    report = import_csv(text=text, apply=True)

    assert report.applied and [row.action for row in report.rows] == ["unchanged", "unchanged"]
    assert [history.score_history(risk)[-1].id for risk in two_risks] == before
    assert csvio.export_csv() == text


def test_an_edited_export_updates_the_same_risks_by_id_and_adds_new_rows(app, two_risks, owner):
    rows = rows_of(csvio.export_csv())
    rows[1].update(likelihood="5", impact="5", title="Tax engine outage in close week")
    rows.append({"title": "New from the spreadsheet", "category": "data", "source": "process",
                 "owner_email": owner.email.upper(), "quarter": "Q1 FY28", "inherent_likelihood": "3",
                 "inherent_impact": "3", "likelihood": "2", "impact": "3"})

    report = import_csv(text=write(rows), apply=True)

    assert [row.action for row in report.rows] == ["unchanged", "update", "create"]
    tax = db.session.get(Risk, two_risks[1].id)
    assert (tax.title, tax.likelihood, tax.impact, tax.level.value) == ("Tax engine outage in close week", 5, 5,
                                                                       "critical")
    assert history.score_history(tax)[-1].cause == "import"
    new = db.session.get(Risk, report.rows[2].record_id)
    assert (new.quarter_label, new.owner_id, new.status.value, new.level.value) == ("Q1 FY28", owner.id, "open",
                                                                                   "medium")
    assert risk_count() == 3


def test_a_file_with_only_some_columns_updates_only_those(app, two_risks):
    report = import_csv(text=f"id,likelihood\r\nR-{two_risks[0].id},1\r\n", apply=True)
    assert report.rows[0].action == "update"
    risk = db.session.get(Risk, two_risks[0].id)
    assert (risk.likelihood, risk.impact, risk.title) == (1, 4, "=SUM(A1) looks like a formula")


def test_status_and_level_columns_are_read_only(app, two_risks):
    rows = rows_of(csvio.export_csv())
    rows[0].update(status="closed", level="low")
    report = import_csv(text=write(rows), apply=True)
    assert report.rows[0].action == "unchanged"
    assert db.session.get(Risk, two_risks[0].id).status.value == "open"


def test_a_dry_run_lists_each_rows_errors_and_changes_nothing(app, two_risks, owner):
    rows = rows_of(csvio.export_csv())
    rows[0].update(likelihood="9")
    rows[1].update(title="Renamed by the dry run")
    rows.append({"id": "4242", "title": "Ghost"})
    rows.append({"title": "No owner", "category": "data", "source": "process", "owner_email": "nobody@example.com",
                 "quarter": "Q4 FY27", "inherent_likelihood": "3", "inherent_impact": "3", "likelihood": "2",
                 "impact": "3"})
    rows.append({"title": "Bad quarter", "category": "weather", "source": "process", "owner_email": owner.email,
                 "quarter": "Q5 FY27", "inherent_likelihood": "3", "inherent_impact": "3", "likelihood": "2",
                 "impact": "3"})

    report = import_csv(text=write(rows), apply=True)

    assert not report.applied
    assert [(row.line, row.action, row.errors) for row in report.rows] == [  # row 2 spans lines 3 and 4
        (2, "error", {"likelihood": "A whole number from 1 to 5."}),
        (3, "update", {}),
        (5, "error", {"id": "No risk R-4242; leave id empty to add a new risk."}),
        (6, "error", {"owner_email": "No person with the email nobody@example.com."}),
        (7, "error", {"category": "Choose one of: capacity, outage, single_point_of_failure, data, vendor, "
                                  "linearity, pipeline_deal, defect, other.",
                      "quarter": "Give the quarter as e.g. Q4 FY27."}),  # every problem of the row, not the first
    ]
    db.session.expire_all()
    assert db.session.get(Risk, two_risks[1].id).title == "Tax engine outage"
    assert risk_count() == 2


def test_a_clean_dry_run_reports_and_still_changes_nothing(app, two_risks):
    rows = rows_of(csvio.export_csv())
    rows[1].update(title="Renamed")
    report = import_csv(text=write(rows), apply=False)
    assert not report.applied and report.count("update") == 1 and report.error_count == 0
    db.session.expire_all()
    assert db.session.get(Risk, two_risks[1].id).title == "Tax engine outage"


@pytest.mark.parametrize("text, message", [
    ("", "The file is empty"), ("title,colour\r\nx,blue\r\n", "Unknown column(s) colour"),
    ("likelihood\r\n2\r\n", "Missing column: id"), ("title\r\n", "has a header but no rows"),
])
def test_an_unreadable_file_is_refused_as_a_whole(app, text, message):
    with pytest.raises(Invalid, match=re.escape(message)) as error:
        import_csv(text=text, apply=False)
    assert error.value.field == "file"


def test_the_import_page_checks_first_then_applies_the_same_file(app, login_as, two_risks):
    rows = rows_of(csvio.export_csv())
    rows[1].update(likelihood="5", impact="5")
    data = write(rows).encode("utf-8")
    client = login_as("crisis_team")
    token = csrf_token_from(client.get("/risks/import").get_data(as_text=True))

    checked = client.post("/risks/import", data={"csrf_token": token, "step": "check",
                                                 "file": (io.BytesIO(data), "risks.csv")},
                          content_type="multipart/form-data")

    page = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "1 to update" in page and "Apply these changes" in page
    assert db.session.get(Risk, two_risks[1].id).likelihood == 2
    packed = page.split('name="csv_text" value="')[1].split('"')[0]
    applied = client.post("/risks/import", data={"csrf_token": token, "step": "apply", "csv_text": packed})
    assert applied.status_code == 302
    db.session.expire_all()
    assert db.session.get(Risk, two_risks[1].id).likelihood == 5
