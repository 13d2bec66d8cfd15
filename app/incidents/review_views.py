"""The post-incident review page: its words, drafted lessons and follow-ups, completing it; waiving it and
closing the incident (crisis team and administrators)."""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from app.access import allow, can
from app.auth.roles import EDITORS, EVERYONE
from app.calendar.services import quarter_for
from app.errors import DomainError
from app.extensions import db
from app.incidents import links, metrics, review, services
from app.incidents.forms import ActionForm, FollowUpForm, LessonDraftForm, ReviewForm, WaiveForm
from app.incidents.models import Incident
from app.incidents.review_due import commander_today
from app.incidents.review_models import Review
from app.incidents.views import unique_ids
from app.readiness.tracks.checklist import quarter_code
from app.timeutil import utcnow
from app.views_common import apply_domain_error

bp = Blueprint("incident_reviews", __name__)


def _review_or_none(incident: Incident) -> Review | None:
    return db.session.scalar(select(Review).where(Review.incident_id == incident.id))


def render_review(incident: Incident, *, status: int = 200, **failed):
    found = _review_or_none(incident)
    forms = {"review_form": ReviewForm(formdata=None, obj=found), "lesson_form": LessonDraftForm(formdata=None),
             "follow_up_form": FollowUpForm(formdata=None, quarter=quarter_code(quarter_for(utcnow().date()))),
             "waive_form": WaiveForm(formdata=None), "action_form": ActionForm(), **failed}
    unique_ids(forms)
    duration = (incident.resolved_at - incident.detected_at).total_seconds() if incident.resolved_at else None
    return render_template(
        "incidents/review.html", incident=incident, review=found, duration=metrics.minutes(duration),
        overdue=bool(found and found.is_pending and found.due_on < commander_today(incident)),
        touched=links.links_of(incident), link_url=links.link_url, may_work=can(services.WORKERS),
        may_close=can(EDITORS), **forms), status


@bp.route("/incidents/<int:incident_id>/review")
@allow(EVERYONE)
def review_page(incident_id: int):
    return render_review(services.get_incident(incident_id))


def _act(incident_id: int, form: FlaskForm, form_name: str, action: Callable[[Incident], str], anchor: str = ""):
    """Validate `form`, run `action` on the incident and go back to the review; else show it with the errors."""
    incident = services.get_incident(incident_id)
    if form.validate_on_submit():
        try:
            done = action(incident)
        except DomainError as error:
            db.session.rollback()
            apply_domain_error(form, error)
        else:
            flash(done, "success")
            return redirect(url_for("incident_reviews.review_page", incident_id=incident_id)
                            + (f"#{anchor}" if anchor else ""))
    if "csrf_token" in form.errors:
        flash("The form expired or was sent from elsewhere. Reload the page and try again.", "error")
    return render_review(services.get_incident(incident_id), status=422, **{form_name: form})


@bp.route("/incidents/<int:incident_id>/review", methods=["POST"], endpoint="save")
@allow(services.WORKERS)
def save(incident_id: int):
    form = ReviewForm()

    def action(incident: Incident) -> str:
        review.save_review(review.review_of(incident), **_words(form))
        return "Review saved (a draft until it is completed)."
    return _act(incident_id, form, "review_form", action)


def _words(form: ReviewForm) -> dict[str, str]:
    return {name: form[name].data or "" for name in review.REVIEW_FIELDS}


@bp.route("/incidents/<int:incident_id>/review/lessons", methods=["POST"])
@allow(services.WORKERS)
def add_lesson(incident_id: int):
    form = LessonDraftForm()

    def action(incident: Incident) -> str:
        review.add_lesson(review.review_of(incident), title=form.title.data, recommendation=form.recommendation.data,
                          owner_id=form.owner_id.data)
        return "Lesson added; it goes to readiness when the review is completed."
    return _act(incident_id, form, "lesson_form", action, "lessons")


@bp.route("/incidents/<int:incident_id>/review/follow-ups", methods=["POST"])
@allow(services.WORKERS)
def add_follow_up(incident_id: int):
    form = FollowUpForm()

    def action(incident: Incident) -> str:
        review.add_follow_up(review.review_of(incident), kind=form.kind.data, title=form.title.data,
                             description=form.description.data or "", owner_id=form.owner_id.data,
                             category=form.category.data, likelihood=form.likelihood.data, impact=form.impact.data,
                             quarter=form.quarter.data or None, bd_offset=form.bd_offset.data)
        return "Follow-up added; it is handed over when the review is completed."
    return _act(incident_id, form, "follow_up_form", action, "follow-ups")


@bp.route("/incidents/<int:incident_id>/review/lessons/<int:lesson_draft_id>/delete", methods=["POST"])
@allow(services.WORKERS)
def remove_lesson(incident_id: int, lesson_draft_id: int):
    def action(incident: Incident) -> str:
        review.remove_draft(review.review_of(incident), lesson_id=lesson_draft_id)
        return "Lesson removed."
    return _act(incident_id, ActionForm(), "action_form", action, "lessons")


@bp.route("/incidents/<int:incident_id>/review/follow-ups/<int:follow_up_id>/delete", methods=["POST"])
@allow(services.WORKERS)
def remove_follow_up(incident_id: int, follow_up_id: int):
    def action(incident: Incident) -> str:
        review.remove_draft(review.review_of(incident), follow_up_id=follow_up_id)
        return "Follow-up removed."
    return _act(incident_id, ActionForm(), "action_form", action, "follow-ups")


@bp.route("/incidents/<int:incident_id>/review/complete", methods=["POST"])
@allow(services.WORKERS)
def complete(incident_id: int):
    form = ReviewForm()

    def action(incident: Incident) -> str:
        done = review.complete_review(incident, actor=current_user, **_words(form))
        return (f"Review completed: {len(done.lessons)} lesson(s) now in readiness, {len(done.follow_ups)} "
                "follow-up(s) handed over.")
    return _act(incident_id, form, "review_form", action)


@bp.route("/incidents/<int:incident_id>/review/waive", methods=["POST"])
@allow(EDITORS)
def waive(incident_id: int):
    form = WaiveForm()

    def action(incident: Incident) -> str:
        review.waive_review(incident, reason=form.reason.data, actor=current_user)
        return f"Review waived; {incident.code} is closed."
    return _act(incident_id, form, "waive_form", action)


@bp.route("/incidents/<int:incident_id>/close", methods=["POST"])
@allow(EDITORS)
def close(incident_id: int):
    def action(incident: Incident) -> str:
        review.close_incident(incident, actor=current_user)
        return f"{incident.code} closed."
    return _act(incident_id, ActionForm(), "action_form", action)
