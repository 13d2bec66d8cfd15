"""Review pages: the list, one review (agenda, pre-read and reminders), building this week's, and the minutes.

Meeting mode (walking the agenda, decisions, finishing) is in meeting_views.py, on the same blueprint
(create_app() imports it).
"""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import allow
from app.auth.roles import EDITORS, EVERYONE
from app.errors import DomainError
from app.reviews import agenda, queries, services
from app.reviews.forms import ConfirmForm
from app.reviews.meeting import get_review
from app.reviews.minutes import minutes_markdown
from app.risks import cadence
from app.risks.scoring import WEEKDAYS, current_settings
from app.views_common import keyset_args

bp = Blueprint("reviews", __name__)


@bp.route("/reviews")
@allow(EVERYONE)
def reviews():
    settings = current_settings()
    today = cadence.team_today(settings)
    after, before, per_page = keyset_args()
    listing = services.reviews_page(after=after, before=before, per_page=per_page)
    return render_template("reviews/list.html", listing=listing, this_week=agenda.review_for_week(today),
                           counts=queries.item_counts([review.id for review in listing.items]),
                           week=agenda.week_key(today), slot=agenda.slot_in_week(settings, today),
                           settings=settings, weekday=WEEKDAYS[settings.review_weekday],
                           confirm_form=ConfirmForm(formdata=None),
                           pager_args={"per_page": per_page} if "per_page" in request.args else {})


@bp.route("/reviews/build", methods=["POST"])
@allow(EDITORS)
def build():
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for("reviews.reviews"))
    review, created = agenda.build_review(built_by=current_user.email)
    flash(f"{review.title}: agenda built with {len(review.items)} risk{'' if len(review.items) == 1 else 's'}."
          if created else f"{review.title} already exists.", "success")
    return redirect(url_for("reviews.review", review_id=review.id))


def _grouped(items) -> list[tuple[str, str, list]]:
    """(reason key, heading, items) in agenda order; an item appears under each of its reasons."""
    return [(key, heading, [item for item in items if key in item.reasons]) for key, heading in agenda.REASONS.items()]


@bp.route("/reviews/<int:review_id>")
@allow(EVERYONE)
def review(review_id: int):
    review = get_review(review_id)
    items = queries.items_of(review)
    messages = queries.messages_of(review)
    return render_template("reviews/review.html", review=review, items=items, grouped=_grouped(items),
                           reasons=agenda.REASONS, messages=messages,
                           failed=[row for row, _message in messages if row.outcome == "failed"],
                           decided=sum(1 for item in items if item.decided), confirm_form=ConfirmForm(formdata=None),
                           addable=agenda.addable_risks(review) if review.status.value != "finished" else [])


@bp.route("/reviews/<int:review_id>/items", methods=["POST"])
@allow(EDITORS)
def add_item(review_id: int):
    """A risk raised after the agenda was built joins this week's meeting."""
    review = get_review(review_id)
    if not ConfirmForm().validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for("reviews.review", review_id=review.id))
    try:
        item = agenda.add_to_agenda(review, request.form.get("risk_id", type=int))
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("reviews.review", review_id=review.id))
    flash(f"{item.snapshot['reference']} added to the agenda as item {item.position}.", "success")
    return redirect(url_for("reviews.review", review_id=review.id, _anchor="agenda-heading"))


@bp.route("/reviews/<int:review_id>/minutes")
@allow(EVERYONE)
def minutes(review_id: int):
    review = get_review(review_id)
    items = queries.items_of(review)
    return render_template("reviews/minutes.html", review=review, items=items, reasons=agenda.REASONS,
                           messages=[row for row, _message in queries.messages_of(review)])


@bp.route("/reviews/<int:review_id>/minutes.md")
@allow(EVERYONE)
def minutes_md(review_id: int):
    review = get_review(review_id)
    text = minutes_markdown(review, queries.items_of(review), [row for row, _m in queries.messages_of(review)],
                            current_user.time_zone)
    return Response(text, mimetype="text/markdown", headers={
        "Content-Disposition": f'attachment; filename="risk-review-{review.week_key}.md"'})
