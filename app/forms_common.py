"""Validators and fields shared by several domains' forms."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import available_timezones

from flask import current_app, has_request_context
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import IntegerField as _WTFormsIntegerField
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from app.calendar.models import Region
from app.extensions import db
from app.request_guard import DB_INT_MAX, DB_INT_MIN, database_int
from app.timeutil import as_utc, instant_from_local, is_valid_zone, to_zone, zone_label


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


def viewer_zone() -> str:
    """The zone the person looking at a page reads times in: theirs, or DEFAULT_TIME_ZONE before signing in."""
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.time_zone
    return current_app.config["DEFAULT_TIME_ZONE"]


NAIVE_REFUSED = "Add the UTC offset (e.g. 2027-01-26T09:00:00Z or 2027-01-26T01:00:00-08:00): a time without one " \
                "is ambiguous."


class InstantField(StringField):
    """An instant: ISO 8601 with an offset (Z, +01:00) is that instant, as aware UTC.

    Without an offset, a page reads it in the viewer's time zone, which the field's description states; the JSON
    API refuses it (422 naming the field), because a client's "09:00" could be anywhere. load_form() marks API
    forms with meta `api=True`.
    """

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {"type": "datetime-local"})
        super().__init__(label, validators, **kwargs)
        self.base_description = self.description

    def _from_api(self) -> bool:
        return bool(getattr(self.meta, "api", False))

    def process(self, formdata, data=None, extra_filters=None):
        super().process(formdata, data, extra_filters)
        if not self._from_api():
            label = zone_label(viewer_zone())
            self.description = (f"{self.base_description} — " if self.base_description else "") + \
                f"in your time zone ({label}) unless you add an offset"

    def process_formdata(self, valuelist):
        raw = valuelist[0].strip() if valuelist and valuelist[0] else ""
        self.data = None
        if not raw:
            return
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError("Use a date and time such as 2026-11-23T15:00" +
                             ("Z." if self._from_api() else ".")) from None
        if value.tzinfo is not None:
            self.data = as_utc(value)
        elif self._from_api():
            raise ValueError(NAIVE_REFUSED)
        else:
            self.data = instant_from_local(value, viewer_zone())

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        if not isinstance(self.data, datetime):
            return ""
        if self._from_api():
            return as_utc(self.data).isoformat()
        return to_zone(self.data, viewer_zone()).strftime("%Y-%m-%dT%H:%M")
