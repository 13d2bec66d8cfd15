"""Forms for signing in, accounts, users and API tokens; the API validates JSON with the same classes."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from app.auth.roles import ROLE_LABELS, Role
from app.forms_common import RegionChoicesForm, region_field, zone_field

ROLE_CHOICES = [SelectChoice(role.value, ROLE_LABELS[role]) for role in Role]


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class UserCreateForm(RegionChoicesForm):
    email = EmailField("Email", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Role", choices=ROLE_CHOICES, validators=[DataRequired()])
    time_zone = zone_field()
    region_id = region_field()
    password = PasswordField("Initial password", validators=[DataRequired(), Length(min=12, max=200)],
                             render_kw={"autocomplete": "new-password"})


class UserEditForm(RegionChoicesForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Role", choices=ROLE_CHOICES, validators=[DataRequired()])
    time_zone = zone_field()
    region_id = region_field()
    active = BooleanField("Active (may sign in)", default=True)


class ProfileForm(RegionChoicesForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    time_zone = zone_field("Your time zone")
    region_id = region_field("Your region")


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField("New password", validators=[DataRequired(), Length(min=12, max=200)],
                                 render_kw={"autocomplete": "new-password"})


class PasswordResetForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(min=12, max=200)],
                             render_kw={"autocomplete": "new-password"})


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=80)],
                       description="Where the token is used, e.g. 'monitoring webhook'")
