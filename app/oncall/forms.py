"""Forms for contact methods, verification codes and notification rules; the API validates JSON with the same classes."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from app.forms_common import IntegerField, optional_int
from app.oncall.models import ContactKind

KIND_CHOICES = [SelectChoice(ContactKind.SMS.value, "SMS (text message)"),
                SelectChoice(ContactKind.VOICE.value, "Voice call"),
                SelectChoice(ContactKind.EMAIL.value, "Email")]


class ContactMethodForm(FlaskForm):
    kind = SelectField("Kind", choices=KIND_CHOICES, validators=[DataRequired()])
    address = StringField("Phone number or email", validators=[DataRequired(), Length(max=254)],
                          description="Phones with +country code, or a local number of the person's region",
                          render_kw={"autocomplete": "off"})
    label = StringField("Label", validators=[Optional(), Length(max=60)], description="Optional, e.g. 'work mobile'")


class VerifyForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Regexp(r"^\s*\d{6}\s*$",
                                                                  message="Type the 6 digits of the code.")],
                       description="The 6-digit code we sent",
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"})


class RuleForm(FlaskForm):
    # Choices are the person's own methods, filled by the page; the service checks ownership for the API too.
    contact_method_id = SelectField("Contact method", coerce=optional_int, choices=[], validate_choice=False,
                                    validators=[DataRequired()], description="id of one of the person's methods")
    delay_minutes = IntegerField("After (minutes)", default=0, validators=[InputRequired(), NumberRange(0, 1440)],
                                 description="Minutes after the page starts: 0 to 1440",
                                 render_kw={"inputmode": "numeric"})
