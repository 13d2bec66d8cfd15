"""Escalation policy forms: the flat fields (HTML and API) and, for the HTML page, the list of steps."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, SelectMultipleField, StringField, \
    TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.auth.models import User
from app.oncall.models import Schedule
from app.oncall.policies import ACK_TIMEOUT_RANGE, CLOSE_DELAY_RANGE, DELAY_RANGE, DESCRIPTION_MAX, MAX_STEPS, NAME_MAX, REPEAT_RANGE
from app.forms_common import IntegerField

# A page offers a blank row or two beyond the saved steps, and "Add another step" adds more.
MAX_ROWS = MAX_STEPS + 2


class PolicyFieldsForm(FlaskForm):
    """Everything but the steps; the API validates its JSON with this class, the page with PolicyForm."""

    name = StringField("Name", validators=[DataRequired(), Length(max=NAME_MAX)],
                       description="e.g. Critical jobs")
    description = TextAreaField("Description", validators=[Optional(), Length(max=DESCRIPTION_MAX)],
                                render_kw={"rows": 2})
    # Optional + default: an API client may leave these out; a cleared input reaches the service, which says why.
    repeat = IntegerField("Repeat", default=0, validators=[Optional(), NumberRange(*REPEAT_RANGE)],
                          description="How many more times the whole policy runs after its last step (0–9)")
    close_mode = BooleanField("Close mode: in the quarter-close window, shorten every wait and call first")
    close_mode_max_delay = IntegerField(
        "Longest wait in close mode (minutes)", default=5, validators=[Optional(), NumberRange(*CLOSE_DELAY_RANGE)],
        description="In the close window no step waits longer than this (1–60)")
    ack_timeout_minutes = IntegerField(
        "Acknowledgement timeout (minutes)", default=60, validators=[Optional(), NumberRange(*ACK_TIMEOUT_RANGE)],
        description="An acknowledged alert not resolved within this time pages again (0: never; up to 1440)")


class StepForm(Form):
    """One row of the steps list; a row with no wait and nobody to notify is left out."""

    position = IntegerField("Order", validators=[Optional(), NumberRange(1, 99)],
                            description="Steps run in this order; change the numbers to reorder")
    targets = SelectMultipleField("Notify", coerce=str, choices=[], validate_choice=True,
                                  description="Ctrl/Cmd-click to pick several; a schedule means whoever is on call",
                                  render_kw={"size": 6})
    delay_minutes = IntegerField("Then wait (minutes)", validators=[Optional(), NumberRange(*DELAY_RANGE)],
                                 description="before the next step (1–1440)")
    remove = BooleanField("Remove this step")

    @property
    def is_blank(self) -> bool:
        typed = (self.delay_minutes.raw_data or [""])[0]
        return not str(typed).strip() and not self.targets.data


class PolicyForm(PolicyFieldsForm):
    steps = FieldList(FormField(StepForm), min_entries=1, max_entries=MAX_ROWS)

    def set_target_choices(self, choices: list[SelectChoice]) -> None:
        for entry in self.steps:
            entry.form.targets.choices = choices

    def add_blank_row(self, choices: list[SelectChoice]) -> bool:
        """Append an empty step row; False when the page already has as many rows as it may."""
        if len(self.steps) >= MAX_ROWS:
            return False
        self.steps.append_entry()
        self.set_target_choices(choices)
        return True


def target_value(target_key: tuple[str, int]) -> str:
    """("user_id", 7) -> "user:7": the value of that target's option."""
    kind, ident = target_key
    return f"{kind.removesuffix('_id')}:{ident}"


def target_from_value(value: str) -> dict[str, int]:
    """"user:7" -> {"user_id": 7}; only called on values the select has already checked against its choices."""
    kind, ident = value.split(":", 1)
    return {f"{kind}_id": int(ident)}


def target_choices(schedules: list[Schedule], users: list[User], keep: list[User] = ()) -> list[SelectChoice]:
    """Options grouped as Schedules / People; `keep` are deactivated people a saved step still names."""
    choices = [SelectChoice(target_value(("schedule_id", s.id)), s.name, optgroup="Schedules") for s in schedules]
    choices += [SelectChoice(target_value(("user_id", u.id)), f"{u.name} ({u.email})", optgroup="People")
                for u in users]
    choices += [SelectChoice(target_value(("user_id", u.id)), f"{u.name} (deactivated)", optgroup="People")
                for u in keep if u not in users]
    return choices
