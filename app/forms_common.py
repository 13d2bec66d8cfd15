"""Validators and fields shared by several domains' forms."""
from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField as _WTFormsIntegerField
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from app.calendar.models import Region
from app.extensions import db
from app.request_guard import DB_INT_MAX, DB_INT_MIN, database_int
from app.timeutil import is_valid_zone


@lru_cache(maxsize=1)
def zone_names() -> list[str]:
    return sorted(available_timezones())


def valid_zone(form, field) -> None:
    if field.data and not is_valid_zone(field.data):
        raise ValidationError("Unknown time zone; use an IANA name such as Europe/London.")


def zone_field(label: str = "Time zone") -> StringField:
    return StringField(label, default="UTC", validators=[DataRequired(), Length(max=64), valid_zone],
                       description="IANA time zone, e.g. America/Los_Angeles",
                       render_kw={"list": "zone-names", "autocomplete": "off"})


def form_values(form: FlaskForm) -> dict:
    """The form's cleaned values by field name, ready to pass to a service as keyword arguments."""
    return {name: field.data for name, field in form._fields.items() if name != "csrf_token"}


def optional_int(value):
    """Coerce a select's value to an int the database can hold, with '' meaning 'none'."""
    if value in (None, "", "None"):
        return None
    return database_int(value)


class IntegerField(_WTFormsIntegerField):
    """WTForms' IntegerField, refusing a number the database's integer columns cannot hold (a form error)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not DB_INT_MIN <= self.data <= DB_INT_MAX:
            self.data = None
            raise ValueError(f"Use a number between {DB_INT_MIN} and {DB_INT_MAX}.")


def region_field(label: str = "Region") -> SelectField:
    # Choices come from the database, so RegionChoicesForm fills them when the form is built.
    return SelectField(label, coerce=optional_int, choices=[SelectChoice("", "— none —")], validate_choice=True,
                       description="id of a region, or empty for none")


class RegionChoicesForm(FlaskForm):
    """A form whose `region_id` select lists the regions that exist now."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "region_id" in self._fields:
            regions = db.session.execute(select(Region.id, Region.name).order_by(Region.name)).all()
            self.region_id.choices = [SelectChoice("", "— none —")] + [SelectChoice(rid, name) for rid, name in regions]
