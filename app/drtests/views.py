"""DR test pages: the overview, templates and their steps. Exercise, finding and continuity pages add their routes
to `bp` (create_app() imports them).

Everyone reads; the crisis team and admins edit templates and schedule exercises.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app.access import allow
from app.auth.roles import EDITORS, EVERYONE
from app.drtests import exercises, services, templates
from app.drtests.forms import StepForm, TemplateForm
from app.drtests.models import FindingStatus
from app.drtests.results import minutes_text
from app.errors import DomainError
from app.forms_common import form_values
from app.markdown import render_markdown
from app.providers import provided
from app.views_common import apply_domain_error, keyset_args

bp = Blueprint("drtests", __name__, url_prefix="/drtests")


@bp.app_template_filter("covered_systems")
def covered_systems_filter(systems: str) -> list[tuple[str, int | None]]:
    return templates.covered_systems(systems)


@bp.app_template_filter("dr_markdown")
def _markdown_filter(text):
    return render_markdown(text, heading_offset=2)  # h3..h5: instructions sit under the page's own headings


@bp.app_template_filter("dr_duration")
def _duration_filter(value):
    return minutes_text(value)


@bp.route("")
@allow(EVERYONE)
def index():
    after, before, per_page = keyset_args()
    return render_template("drtests/index.html", templates=templates.list_templates(),
                           listing=services.exercises_page(after=after, before=before, per_page=per_page),
                           pager_args={"per_page": per_page} if "per_page" in request.args else {},
                           flags=services.recent_quarter_flags(),
                           FindingStatus=FindingStatus)


@bp.route("/templates/new", methods=["GET", "POST"])
@allow(EDITORS)
def new_template():
    form = TemplateForm()
    if form.validate_on_submit():
        try:
            template = templates.create_template(**form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"Template {template.name} created. Add its steps below.", "success")
            return redirect(url_for("drtests.template", template_id=template.id))
    return render_template("drtests/template_form.html", form=form, template=None), 422 if form.errors else 200


@bp.route("/templates/<int:template_id>")
@allow(EVERYONE)
def template(template_id: int):
    item = templates.get_template(template_id)
    return render_template("drtests/template.html", template=item, step_form=StepForm(formdata=None),
                           related=provided("dr_template_links", item),
                           runs=templates.exercises_of(item), trend=exercises.recovery_trend(item))


@bp.route("/templates/<int:template_id>/edit", methods=["GET", "POST"])
@allow(EDITORS)
def edit_template(template_id: int):
    item = templates.get_template(template_id)
    form = TemplateForm(data=templates.template_fields(item))
    if form.validate_on_submit():
        try:
            templates.update_template(item, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"Template saved as version {item.version}.", "success")
            return redirect(url_for("drtests.template", template_id=item.id))
    return render_template("drtests/template_form.html", form=form, template=item), 422 if form.errors else 200


@bp.route("/templates/<int:template_id>/delete", methods=["POST"])
@allow(EDITORS)
def delete_template(template_id: int):
    item = templates.get_template(template_id)
    name = item.name
    templates.delete_template(item)
    flash(f"Template {name} deleted; exercises run from it keep their steps.", "success")
    return redirect(url_for("drtests.index"))


@bp.route("/templates/<int:template_id>/steps", methods=["POST"])
@allow(EDITORS)
def add_step(template_id: int):
    item = templates.get_template(template_id)
    form = StepForm()
    if form.validate_on_submit():
        try:
            step = templates.add_step(item, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"Step {step.position} added; the template is now version {item.version}.", "success")
            return redirect(url_for("drtests.template", template_id=item.id, _anchor=f"step-{step.position}"))
    return render_template("drtests/template.html", template=item, step_form=form, runs=templates.exercises_of(item),
                           trend=exercises.recovery_trend(item)), 422


@bp.route("/templates/<int:template_id>/steps/<int:step_id>/edit", methods=["GET", "POST"])
@allow(EDITORS)
def edit_step(template_id: int, step_id: int):
    item = templates.get_template(template_id)
    step = templates.get_step(item, step_id)
    form = StepForm(data=templates.step_fields(step))
    if form.validate_on_submit():
        try:
            templates.update_step(step, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"Step {step.position} saved; the template is now version {item.version}.", "success")
            return redirect(url_for("drtests.template", template_id=item.id, _anchor=f"step-{step.position}"))
    return render_template("drtests/step_form.html", form=form, template=item, step=step), \
        422 if form.errors else 200


@bp.route("/templates/<int:template_id>/steps/<int:step_id>/delete", methods=["POST"])
@allow(EDITORS)
def delete_step(template_id: int, step_id: int):
    item = templates.get_template(template_id)
    try:
        templates.delete_step(templates.get_step(item, step_id))
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(f"Step deleted; the template is now version {item.version}.", "success")
    return redirect(url_for("drtests.template", template_id=item.id))


@bp.route("/templates/<int:template_id>/steps/<int:step_id>/move", methods=["POST"])
@allow(EDITORS)
def move_step(template_id: int, step_id: int):
    item = templates.get_template(template_id)
    step = templates.get_step(item, step_id)
    try:
        templates.move_step(step, direction=request.form.get("direction", ""))
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(f"{step.title} is now step {step.position}; the template is now version {item.version}.", "success")
    return redirect(url_for("drtests.template", template_id=item.id, _anchor=f"step-{step.position}"), 303)
