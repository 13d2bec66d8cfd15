"""Region form (HTML and API)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from app.forms_common import zone_field


class RegionForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=40)], description="e.g. EMEA")
    time_zone = zone_field()
    # InputRequired, not DataRequired: a value that is not a time ("25:00") must say so, not "field is required".
    business_start = TimeField("Business hours start", validators=[InputRequired()], description="HH:MM, local")
    business_end = TimeField("Business hours end", validators=[InputRequired()], description="HH:MM, local")
    holiday_country = StringField("Holiday country", validators=[Optional(), Regexp(r"^[A-Za-z]{2}$",
                                  message="Two-letter country code, e.g. GB.")],
                                  description="ISO 3166 code whose public holidays apply, e.g. PH")
    holiday_subdivision = StringField("Holiday subdivision", validators=[Optional(), Length(max=10)],
                                      description="Optional, e.g. ENG for England within GB")
