"""CSV export and import: round trip by id, a dry run that lists each row's problems and changes nothing."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from app.errors import Invalid
from app.extensions import db
from app.vendors import vendor_csv as csvio
from app.vendors import services as vendors
from app.vendors.vendor_csv import import_csv
from app.vendors.models import EscalationLevel, Vendor, VendorContact


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def as_csv(rows: list[dict[str, str]], columns) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def company(make_vendor, make_contact, make_user):
    owner = make_user("crisis_team", email="olive@example.com")
    erp = make_vendor(levels=2, name="Orbis ERP", supports="ERP, order to cash", owner_id=owner.id,
                      sla_p1_minutes=30, notes="Line one\nLine two; with, punctuation")
    make_contact(erp, level=1, name="Dana Desk", phone="+12125550142", email="dana@orbis.example")
    make_contact(erp, level=2, kind="internal", name="Casey Crisis", mobile="+442079460958", user_id=owner.id)
    crm = make_vendor(levels=1, name="=HYPERLINK(\"x\")", tier="important")
    make_contact(crm, level=1, name="-Desk", email="desk@crm.example")
    return erp, crm


@pytest.mark.parametrize("kind", ["vendors", "contacts"])
def test_an_export_imported_again_changes_nothing(company, kind):
    text = csvio.export_csv(kind)
    report = import_csv(kind=kind, text=text, apply=True)
    assert report.applied and report.error_count == 0
    assert [row.action for row in report.rows] == ["unchanged"] * len(report.rows) and len(report.rows) in (2, 3)
    assert csvio.export_csv(kind) == text


def test_cells_a_spreadsheet_would_run_are_quoted_and_come_back_intact(company):
    vendors_csv = csvio.export_csv("vendors")
    assert "'=HYPERLINK" in vendors_csv
    contacts = rows_of(csvio.export_csv("contacts"))
    assert {row["name"] for row in contacts} >= {"'-Desk"}
    assert {row["phone"] for row in contacts} >= {"'+12125550142"}
    import_csv(kind="vendors", text=vendors_csv, apply=True)
    assert vendors.find_vendor_by_name('=HYPERLINK("x")') is not None


def test_a_changed_cell_is_a_dry_run_update_then_applied_when_confirmed(company):
    erp, _crm = company
    rows = rows_of(csvio.export_csv("contacts"))
    dana = next(row for row in rows if row["name"] == "Dana Desk")
    dana["phone"] = "+1 212 555 0199"
    dana["level_label"] = "Support desk"
    edited = as_csv(rows, csvio.CONTACT_COLUMNS)

    dry = import_csv(kind="contacts", text=edited, apply=False)
    assert not dry.applied and [row.action for row in dry.rows].count("update") == 1
    assert erp.levels[0].contacts[0].phone == "+12125550142"  # nothing changed yet
    db.session.expire_all()
    assert vendors.get_vendor(erp.id).levels[0].label == "Rung 1"

    applied = import_csv(kind="contacts", text=edited, apply=True)
    assert applied.applied and applied.count("update") == 1
    exported = rows_of(csvio.export_csv("contacts"))
    assert next(row for row in exported if row["name"] == "Dana Desk")["phone"] == "'+12125550199"
    assert vendors.get_vendor(erp.id).levels[0].label == "Support desk"


def test_the_dry_run_lists_every_rows_problem_and_nothing_is_applied(company):
    erp, _crm = company
    text = as_csv([
        {"vendor_name": "Orbis ERP", "level": "1", "kind": "external", "name": "Good Row", "phone": "+12125550111"},
        {"vendor_name": "Orbis ERP", "level": "1", "kind": "external", "name": "Short", "phone": "+1 212 555"},
        {"vendor_name": "Nobody Inc", "level": "1", "kind": "external", "name": "Lost", "email": "lost@example.com"},
        {"vendor_id": str(erp.id), "level": "1", "kind": "alien", "name": "Odd", "email": "odd@example.com"},
        {"id": "999", "level": "1", "kind": "external", "name": "Ghost", "email": "ghost@example.com"},
        {"vendor_id": str(erp.id), "level": "2", "kind": "internal", "name": "Who", "email": "who@example.com",
         "user_email": "nobody@example.com"},
    ], ("id", "vendor_id", "vendor_name", "level", "kind", "name", "phone", "email", "user_email"))
    before = count(VendorContact)
    for apply in (False, True):
        report = import_csv(kind="contacts", text=text, apply=apply)
        assert not report.applied and report.error_count == 5
        assert [(row.line, row.action) for row in report.rows][:2] == [(2, "create"), (3, "error")]
        assert report.rows[1].errors == {"phone": "This number is too short for US (+1)."}
        assert list(report.rows[2].errors) == ["vendor_name"] and "import the vendors first" in \
            report.rows[2].errors["vendor_name"]
        assert list(report.rows[3].errors) == ["kind"]
        assert report.rows[4].errors == {"id": "No vendor contact with id 999; leave id empty to create one."}
        assert report.rows[5].errors == {"user_email": "No person with the email nobody@example.com."}
        assert count(VendorContact) == before


def test_new_rows_create_vendors_and_contacts_with_the_levels_they_need(make_user):
    make_user("crisis_team", email="olive@example.com")
    vendors_csv = as_csv([{"name": "Levy Tax", "tier": "critical", "owner_email": "OLIVE@example.com",
                           "contract_expires": "2027-01-20", "sla_p1_minutes": "60"},
                          {"name": "Polar DW", "tier": "important"}], ("name", "tier", "owner_email",
                                                                       "contract_expires", "sla_p1_minutes"))
    report = import_csv(kind="vendors", text=vendors_csv, apply=True)
    assert report.applied and report.count("create") == 2
    levy = vendors.find_vendor_by_name("levy tax")
    assert (levy.owner.email, str(levy.contract_expires), levy.sla_p1_minutes) == ("olive@example.com",
                                                                                   "2027-01-20", 60)
    contacts_csv = as_csv([{"vendor_name": "Levy Tax", "level": "2", "level_label": "Manager", "kind": "external",
                            "name": "Sam", "phone": "+13125550161"}],
                          ("vendor_name", "level", "level_label", "kind", "name", "phone"))
    assert import_csv(kind="contacts", text=contacts_csv, apply=True).applied
    assert [(level.number, level.label) for level in vendors.get_vendor(levy.id).levels] == [(1, ""), (2, "Manager")]


def test_two_new_rows_with_one_name_are_refused(app):
    text = as_csv([{"name": "Twin", "tier": "other"}, {"name": "twin", "tier": "other"}], ("name", "tier"))
    report = import_csv(kind="vendors", text=text, apply=True)
    assert not report.applied and report.rows[1].errors == {"name": "A vendor named Twin already exists."}
    assert count(Vendor) == 0 and count(EscalationLevel) == 0


@pytest.mark.parametrize("text, message", [
    ("name,tier,colour\nA,other,red\n", "Unknown column(s) colour"),
    ("name\nA\n", "Missing column(s) tier"),
    ("", "needs a header row"),
    ("name,tier\n", "no rows"),
    ("name,tier\nA,other,extra\n", "more cells than the header"),
])
def test_a_file_that_cannot_be_read_is_refused_as_a_whole(app, text, message):
    with pytest.raises(Invalid) as refused:
        import_csv(kind="vendors", text=text, apply=False)
    assert refused.value.field == "file" and message in refused.value.message


def test_an_upload_that_is_not_utf8_is_refused(app):
    with pytest.raises(Invalid, match="not UTF-8"):
        csvio.decode_upload("name,tier\nCafé,other\n".encode("latin-1"))
    assert csvio.decode_upload("\ufeffname,tier\n".encode()) == "name,tier\n"
