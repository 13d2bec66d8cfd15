"""Readiness pages: the executive page, the quarter's checklist, the template and the lessons learned.

Everyone reads; the crisis team and administrators edit; an item's owner may update their own item
(the service decides, so the item route is open to every role and refuses others with 403).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.access import allow, can
from app.alerting.hooks import alert_badges
from app.auth.roles import EDITORS, EVERYONE, Role
from app.calendar.services import list_regions, quarter_overview
from app.errors import DomainError
from app.forms_common import form_values
from app.readiness import checklist, lessons, services
from app.readiness.models import TRACK_LABELS
from app.readiness.forms import ItemStatusForm, LessonEditForm, LessonForm, TemplateItemForm
from app.readiness.chart import trend_chart
from app.readiness.live import live_chase
from app.readiness.page import open_alerts, top_risk_rows
from app.readiness.providers import sections_for
from app.readiness.score import AMBER_AT, GREEN_AT, weights
from app.readiness.snapshots import frozen_top_risks, quarter_trend, readiness_of
from app.readiness.tracks.checklist import quarter_code
from app.risks.escalations import open_escalations
from app.views_common import apply_domain_error, keyset_args

bp = Blueprint("readiness", __name__)


def _quarter_arg():
    return services.quarter_from(request.args.get("quarter"))


@bp.route("/readiness")
@allow(EVERYONE)
def index():
    readiness = readiness_of(_quarter_arg())
    ctx = readiness.context
    frozen = readiness.frozen is not None
    alerts = open_alerts()
    trend = quarter_trend(readiness.quarter, readiness)
    return render_template(
        "readiness/index.html", r=readiness, ctx=ctx, code=quarter_code(readiness.quarter),
        days_left=max((ctx.close_day - ctx.today).days, 0), closes=quarter_overview(readiness.quarter, ctx.now),
        trend=trend, chart=trend_chart([(point.day, point.score) for point in trend.points]),
        quarters=_quarter_choices(readiness.quarter), green_at=GREEN_AT, amber_at=AMBER_AT,
        risks=frozen_top_risks(readiness) if frozen else top_risk_rows(), alerts=alerts,
        badges=alert_badges(alert.id for alert in alerts.latest), sections=sections_for(readiness),
        chase=live_chase(readiness) if can(EDITORS) and not frozen else None, weights=weights(),
        closed=ctx.today > ctx.close_day or frozen, labels=TRACK_LABELS,
        escalated=open_escalations(),
        executive=current_user.role == Role.EXECUTIVE)


def _quarter_choices(shown) -> list[tuple[str, str]]:
    """The quarter picker: four quarters back and one ahead of the current one, and the one shown."""
    current = services.current_quarter()
    quarters = [current]
    for _ in range(4):
        quarters.insert(0, quarters[0].previous())
    quarters.append(current.next())
    if shown not in quarters:
        quarters.append(shown)
    return [(quarter_code(quarter), quarter.label) for quarter in quarters]


def _people_choices(blank: str) -> list[SelectChoice]:
    people = services.active_people()
    return [SelectChoice("", blank)] + [SelectChoice(person.id, person.name) for person in people]


@bp.route("/readiness/checklist", endpoint="checklist")
@allow(EVERYONE)
def checklist_page():
    return _render_checklist(_quarter_arg() or services.current_quarter())


def _render_checklist(quarter, status: int = 200, failed: tuple[int, ItemStatusForm] | None = None):
    items = checklist.quarter_items(quarter)
    forms = {}
    for item in items:
        if checklist.can_update(current_user, item):
            form = failed[1] if failed and failed[0] == item.id else ItemStatusForm(formdata=None, obj=item)
            for name, field in form._fields.items():  # one form per item: each field needs its own id
                field.id = field.label.field_id = f"{name}-{item.id}"
            forms[item.id] = form
    return render_template("readiness/checklist.html", quarter=quarter, code=quarter_code(quarter), items=items,
                           forms=forms, instantiated=checklist.is_instantiated(quarter),
                           previous=quarter_code(quarter.previous()), following=quarter_code(quarter.next()),
                           overdue={item.id for item in items if checklist.is_overdue(item)},
                           labels=TRACK_LABELS), status



@bp.route("/readiness/checklist/create", methods=["POST"])
@allow(EDITORS)
def instantiate():
    quarter = services.quarter_from(request.form.get("quarter")) or services.current_quarter()
    created = checklist.instantiate_quarter(quarter=quarter, by=current_user.email)
    flash(f"{quarter.label} checklist created with {created} items." if created
          else f"The {quarter.label} checklist already exists.", "success" if created else "info")
    return redirect(url_for("readiness.checklist", quarter=quarter_code(quarter)))


@bp.route("/readiness/items/<int:checklist_item_id>", methods=["POST"])
@allow(EVERYONE)
def update_item(checklist_item_id: int):
    item = checklist.get_item(checklist_item_id)
    if not checklist.can_update(current_user, item):
        abort(403)
    form = ItemStatusForm()
    code = quarter_code(services.quarter_of(item))
    if form.validate_on_submit():
        try:
            services.update_item(current_user, item, status=form.status.data, evidence=form.evidence.data or "",
                                 na_reason=form.na_reason.data or "")
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"{item.title}: {item.item_status.label}.", "success")
            return redirect(url_for("readiness.checklist", quarter=code) + f"#item-{item.id}")
    quarter = services.quarter_of(item)
    return _render_checklist(quarter, status=422, failed=(item.id, form))


@bp.route("/readiness/template")
@allow(EVERYONE)
def template():
    return render_template("readiness/template.html", lines=checklist.list_template())


def _template_form(obj=None) -> TemplateItemForm:
    form = TemplateItemForm(obj=obj)
    form.owner_id.choices = _people_choices("— none (a role) —")
    form.region_id.choices = [SelectChoice("", "— the owner's region —")] + [
        SelectChoice(region.id, region.name) for region in list_regions()]
    return form


@bp.route("/readiness/template/new", methods=["GET", "POST"])
@bp.route("/readiness/template/<int:template_line_id>/edit", methods=["GET", "POST"], endpoint="edit_template_item")
@allow(EDITORS)
def new_template_item(template_line_id: int | None = None):
    line = checklist.get_template_item(template_line_id) if template_line_id else None
    form = _template_form(line)
    if form.validate_on_submit():
        values = {name: field.data for name, field in form._fields.items() if name != "csrf_token"}
        values["owner_role"] = values["owner_role"] or ""
        try:
            services.save_template_item(line, **values)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash("Template saved. Quarters already created keep their checklist; new quarters use this.", "success")
            return redirect(url_for("readiness.template"))
    return render_template("readiness/template_form.html", form=form, line=line), 422 if form.errors else 200


def _lesson_form(blank: bool = False) -> LessonForm:
    form = LessonForm(formdata=None) if blank else LessonForm()
    form.owner_id.choices = _people_choices("— crisis team —")
    return form


def _render_lessons(form: LessonForm | None, status: int = 200):
    after, before, per_page = keyset_args()
    listing = lessons.lessons_page(after=after, before=before, per_page=per_page)
    return render_template("readiness/lessons.html", lessons=listing.items, listing=listing,
                           items=lessons.items_by_lesson(listing.items), form=form if can(EDITORS) else None,
                           pager_args={"per_page": per_page} if "per_page" in request.args else {}), status


@bp.route("/readiness/lessons", endpoint="lessons")
@allow(EVERYONE)
def lessons_page():
    return _render_lessons(_lesson_form(blank=True) if can(EDITORS) else None)


@bp.route("/readiness/lessons/new", methods=["POST"])
@allow(EDITORS)
def new_lesson():
    form = _lesson_form()
    if form.validate_on_submit():
        try:
            services.add_lesson(title=form.title.data, recommendation=form.recommendation.data,
                                owner_id=form.owner_id.data, learned_in=services.quarter_from(form.learned_in.data),
                                target=services.quarter_from(form.target_quarter.data))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash("Lesson recorded; it joins the target quarter's checklist.", "success")
            return redirect(url_for("readiness.lessons"))
    return _render_lessons(form, status=422)


@bp.route("/readiness/lessons/<int:lesson_id>/edit", methods=["GET", "POST"])
@allow(EDITORS)
def edit_lesson(lesson_id: int):
    lesson = lessons.get_lesson(lesson_id)
    form = LessonEditForm(obj=lesson)
    form.owner_id.choices = _people_choices("— crisis team —")
    if lesson.is_open and form.validate_on_submit():
        try:
            services.update_lesson(lesson, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash("Lesson saved; its open checklist items follow.", "success")
            return redirect(url_for("readiness.lessons", _anchor=f"lesson-{lesson.id}"))
    return render_template("readiness/lesson_form.html", form=form, lesson=lesson), 422 if form.errors else 200
