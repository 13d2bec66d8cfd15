"""Meeting mode: one agenda item at a time (previous/next, also from the keyboard), what changed since the last
review, the decision form; then finishing the meeting with who attended."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import allow
from app.auth.roles import EDITORS, EVERYONE
from app.errors import DomainError
from app.forms_common import form_values
from app.reviews import agenda, meeting, queries, services
from app.reviews.forms import DecisionForm, FinishForm
from app.reviews.models import ReviewStatus
from app.reviews.views import bp
from app.views_common import apply_domain_error


@bp.route("/reviews/<int:review_id>/start", methods=["POST"])
@allow(EDITORS)
def start(review_id: int):
    review = meeting.get_review(review_id)
    try:
        meeting.start_review(review, actor=current_user)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("reviews.review", review_id=review.id))
    return redirect(url_for("reviews.meeting_mode", review_id=review.id, item=1))


def _current_position(items, asked: int | None) -> int:
    if asked and 1 <= asked <= len(items):
        return asked
    undecided = [item.position for item in items if not item.decided]
    return undecided[0] if undecided else 1


def render_meeting(review, *, position: int | None = None, form: DecisionForm | None = None, status: int = 200):
    items = queries.items_of(review)
    if not items:
        return render_template("reviews/meeting.html", review=review, items=[], item=None), status
    position = _current_position(items, position)
    item = items[position - 1]
    if form is None:
        risk = item.risk
        form = DecisionForm(formdata=None, data={"likelihood": risk.likelihood, "impact": risk.impact})
    form.fill_people()
    today = services.team_today()
    risk = item.risk
    return render_template(
        "reviews/meeting.html", review=review, items=items, item=item, risk=risk, position=position,
        previous=position - 1 if position > 1 else None, following=position + 1 if position < len(items) else None,
        changes=queries.changes_since(risk, review.since), reasons=agenda.REASONS, form=form, today=today,
        action_flags=services.action_flags(risk, today),
        decided=sum(1 for entry in items if entry.decided)), status


@bp.route("/reviews/<int:review_id>/meeting")
@allow(EVERYONE)
def meeting_mode(review_id: int):
    return render_meeting(meeting.get_review(review_id), position=request.args.get("item", type=int))


@bp.route("/reviews/<int:review_id>/items/<int:item_id>/decision", methods=["POST"])
@allow(EDITORS)
def decide(review_id: int, item_id: int):
    review = meeting.get_review(review_id)
    item = meeting.get_item(review, item_id)
    form = DecisionForm().fill_people()
    if form.validate_on_submit():
        try:
            decision = services.record_decision(review, item, actor=current_user, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"{item.snapshot['reference']}: {decision.label.lower()}. {decision.outcome} Add another decision, "
                  "or go on to the next item.", "success")
            # Stay on the item: the meeting may take another decision on it (accept it and add an action).
            return redirect(url_for("reviews.meeting_mode", review_id=review.id, item=item.position))
    return render_meeting(review, position=item.position, form=form, status=422)


@bp.route("/reviews/<int:review_id>/finish", methods=["GET", "POST"])
@allow(EDITORS)
def finish(review_id: int):
    review = meeting.get_review(review_id)
    if request.method == "POST":
        form = FinishForm().fill_people()
    else:
        present = [a.user_id for a in review.attendees] or [current_user.id]
        form = FinishForm(formdata=None, data={"attendee_ids": present, "summary": review.summary}).fill_people()
    if review.status != ReviewStatus.FINISHED and form.validate_on_submit():
        try:
            meeting.finish_review(review, actor=current_user, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"{review.title} finished. Owners of overdue actions will be reminded.", "success")
            return redirect(url_for("reviews.minutes", review_id=review.id))
    items = queries.items_of(review)
    return render_template("reviews/finish.html", review=review, form=form, items=items,
                           undecided=[item for item in items if not item.decided]), 422 if form.errors else 200
