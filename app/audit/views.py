"""A record's history page and the admins' global audit log."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from app.access import allow
from app.audit import services
from app.audit.forms import AuditFilterForm
from app.auth.roles import ADMINS, EVERYONE
from app.views_common import keyset_args, kept_args

bp = Blueprint("audit", __name__)


@bp.route("/history/<entity_type>/<entity_id>")
@allow(EVERYONE)
def history(entity_type: str, entity_id: str):
    model = services.model_for(entity_type)
    # Who may read a record's history depends on the record: user accounts are for admins only.
    if current_user.role not in model.__audit_viewers__:
        abort(403)
    events = services.history(entity_type, entity_id)
    if not events:
        abort(404)
    return render_template("audit/history.html", events=events, entity_type=entity_type, entity_id=entity_id)


@bp.route("/admin/audit")
@allow(ADMINS)
def log():
    form = AuditFilterForm(request.args)
    criteria = services.AuditFilter()
    if form.validate():
        criteria = services.AuditFilter(entity_type=form.entity_type.data or None, action=form.action.data or None,
                                        actor=form.actor.data or None, since=form.since.data, until=form.until.data,
                                        zone=current_user.time_zone)
    after, before, per_page = keyset_args()
    events = services.events_page(criteria, after=after, before=before, per_page=per_page)
    # The pager keeps the filters (when they are valid, like the list) and the page size; the cursors are its own.
    args = {} if form.errors else kept_args("entity_type", "action", "actor", "since", "until")
    if "per_page" in request.args:
        args["per_page"] = per_page
    return render_template("audit/log.html", form=form, events=events, pager_args=args)
