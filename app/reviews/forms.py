"""Forms of the weekly review; the API validates JSON with the same classes."""
from __future__ import annotations

from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import DateField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.auth.models import User
from app.auth.roles import EDITORS
from app.extensions import db
from app.forms_common import database_int, optional_int
from app.reviews.models import Decision
from app.risks.scoring import IMPACT_WORDS, LIKELIHOOD_WORDS

NONE_CHOICE = SelectChoice("", "— unchanged —")


def _score(label: str, words: dict[int, str], description: str) -> SelectField:
    return SelectField(label, coerce=optional_int, validators=[Optional()], description=description,
                       choices=[NONE_CHOICE] + [SelectChoice(n, f"{n} · {word}") for n, word in words.items()])


class DecisionForm(FlaskForm):
    decision = RadioField("Decision", choices=[SelectChoice(d.value, d.label) for d in Decision],
                          validators=[DataRequired()],
                          description="keep, change_score, add_action, accept, close or escalate")
    note = TextAreaField("Note for the minutes", validators=[Optional(), Length(max=2000)])
    likelihood = _score("New residual likelihood", LIKELIHOOD_WORDS, "1 to 5: needed to change the score")
    impact = _score("New residual impact", IMPACT_WORDS, "1 to 5: needed to change the score")
    inherent_likelihood = _score("New inherent likelihood", LIKELIHOOD_WORDS, "1 to 5, if it changes too")
    inherent_impact = _score("New inherent impact", IMPACT_WORDS, "1 to 5, if it changes too")
    action_description = TextAreaField("Action", validators=[Optional(), Length(max=2000)],
                                       description="Needed to add an action: what will be done")
    # Choices are filled by the page; the service checks the id, so the API needs no choices.
    action_owner_id = SelectField("Action owner", coerce=optional_int, choices=[SelectChoice("", "— choose —")],
                                  validate_choice=False, validators=[Optional()],
                                  description="Needed to add an action: who does it (their id in the API)")
    action_due_on = DateField("Action due", validators=[Optional()], description="Needed to add an action: YYYY-MM-DD")
    reason = StringField("Reason", validators=[Optional(), Length(max=2000)],
                         description="Needed to accept or close: why")
    expires_on = DateField("Acceptance expires", validators=[Optional()],
                           description="Needed to accept: the last day it holds (YYYY-MM-DD)")

    def fill_people(self) -> DecisionForm:
        people = db.session.execute(select(User.id, User.name).where(User.active.is_(True))
                                    .order_by(User.name)).all()
        self.action_owner_id.choices = [SelectChoice("", "— choose —")] + [SelectChoice(u, n) for u, n in people]
        return self


class FinishForm(FlaskForm):
    # Choices are the crisis team and administrators, filled by the page; the service checks the ids.
    attendee_ids = SelectMultipleField("Attended", coerce=database_int, choices=[], validate_choice=False,
                                       widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                       description="ids of the people who attended")
    summary = TextAreaField("Summary", validators=[Optional(), Length(max=10_000)],
                            description="What the meeting concluded, for the minutes")

    def fill_people(self) -> FinishForm:
        people = db.session.execute(select(User.id, User.name).where(User.active.is_(True),
                                                                     User.role.in_(EDITORS))
                                    .order_by(User.name)).all()
        self.attendee_ids.choices = [SelectChoice(u, n) for u, n in people]
        return self


class ConfirmForm(FlaskForm):
    """One click: only the CSRF token."""
