"""The filter form of the global audit log (read from the query string)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from app.audit.services import ACTIONS, audited_models


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    entity_type = SelectField("Record type", default="", validators=[Optional()])
    action = SelectField("Action", default="", validators=[Optional()],
                         choices=[SelectChoice("", "any")] + [SelectChoice(a, a) for a in ACTIONS])
    actor = StringField("Who", validators=[Optional(), Length(max=200)])
    since = DateField("From", validators=[Optional()], description="a date in your time zone (the API's are UTC)")
    until = DateField("To", validators=[Optional()], description="inclusive")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.entity_type.choices = [SelectChoice("", "any")] + [SelectChoice(n, n) for n in sorted(audited_models())]
