"""Pages for rotations: the list, one rotation with its people and next hand-offs, create, edit, delete."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for

from app.access import allow
from app.auth.roles import EDITORS, EVERYONE
from app.errors import DomainError
from app.forms_common import form_values
from app.oncall import coverage
from app.oncall import rotations as services
from app.oncall.schedule_forms import MemberForm, MoveForm, RotationForm, RotationSettingsForm, rotation_fields
from app.oncall.schedule_views import bp
from app.providers import provided
from app.views_common import apply_domain_error

HANDOFFS_SHOWN = 8


@bp.route("/rotations")
@allow(EVERYONE)
def rotations():
    shown = services.list_rotations()
    people = {member.user_id: member.user for rotation in shown for member in rotation.members}
    on_now = {rotation.id: people.get(coverage.rotation_now(rotation)) for rotation in shown}
    return render_template("oncall/rotations.html", rotations=shown, on_now=on_now)


@bp.route("/rotations/new", methods=["GET", "POST"])
@allow(EDITORS)
def new_rotation():
    form = RotationForm()
    if form.validate_on_submit():
        try:
            rotation = services.create_rotation(**form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"Rotation {rotation.name} created.", "success")
            return redirect(url_for("schedules.rotation", rotation_id=rotation.id))
    return render_template("oncall/rotation_form.html", form=form, rotation=None), 422 if form.errors else 200


def _render_rotation(rotation, member_form: MemberForm, status: int = 200):
    people = {member.user_id: member.user for member in rotation.members}
    handoffs = [(at, people.get(user_id)) for at, user_id in coverage.next_handoffs(rotation, HANDOFFS_SHOWN)]
    next_shift = {}
    for at, person in handoffs:
        if person is not None:
            next_shift.setdefault(person.id, at)
    return render_template("oncall/rotation.html", rotation=rotation, member_form=member_form, handoffs=handoffs,
                           on_now=people.get(coverage.rotation_now(rotation)), next_shift=next_shift,
                           unread=provided("rotation_unread", rotation)), status


@bp.route("/rotations/<int:rotation_id>")
@allow(EVERYONE)
def rotation(rotation_id: int):
    return _render_rotation(services.get_rotation(rotation_id), MemberForm(formdata=None))


@bp.route("/rotations/<int:rotation_id>/edit", methods=["GET", "POST"])
@allow(EDITORS)
def edit_rotation(rotation_id: int):
    rotation = services.get_rotation(rotation_id)
    form = RotationSettingsForm(obj=rotation_fields(rotation))
    if form.validate_on_submit():
        try:
            services.update_rotation(rotation, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"Rotation {rotation.name} saved.", "success")
            return redirect(url_for("schedules.rotation", rotation_id=rotation.id))
    return render_template("oncall/rotation_form.html", form=form, rotation=rotation), 422 if form.errors else 200


@bp.route("/rotations/<int:rotation_id>/delete", methods=["POST"])
@allow(EDITORS)
def delete_rotation(rotation_id: int):
    rotation = services.get_rotation(rotation_id)
    try:
        services.delete_rotation(rotation)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("schedules.edit_rotation", rotation_id=rotation_id))
    flash(f"Rotation {rotation.name} deleted.", "success")
    return redirect(url_for("schedules.rotations"))


@bp.route("/rotations/<int:rotation_id>/members", methods=["POST"])
@allow(EDITORS)
def add_member(rotation_id: int):
    rotation = services.get_rotation(rotation_id)
    form = MemberForm()
    if form.validate_on_submit():
        try:
            services.add_member(rotation, form.user_id.data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash("Person added at the end of the rotation.", "success")
            return redirect(url_for("schedules.rotation", rotation_id=rotation.id))
    return _render_rotation(rotation, form, 422)


@bp.route("/rotations/<int:rotation_id>/members/<int:member_id>/move", methods=["POST"])
@allow(EDITORS)
def move_member(rotation_id: int, member_id: int):
    rotation = services.get_rotation(rotation_id)
    form = MoveForm()
    if not form.validate_on_submit():
        abort(400)
    services.move_member(rotation, member_id, form.direction.data)
    return redirect(url_for("schedules.rotation", rotation_id=rotation.id))


@bp.route("/rotations/<int:rotation_id>/members/<int:member_id>/remove", methods=["POST"])
@allow(EDITORS)
def remove_member(rotation_id: int, member_id: int):
    rotation = services.get_rotation(rotation_id)
    services.remove_member(rotation, member_id)
    flash("Person removed from the rotation.", "success")
    return redirect(url_for("schedules.rotation", rotation_id=rotation.id))
