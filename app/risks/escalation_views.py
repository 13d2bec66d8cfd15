"""Escalations from the executives' side: acknowledging one (its own blueprint, registered in create_app)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user

from app.access import allow
from app.auth.roles import EXECUTIVES
from app.errors import DomainError
from app.risks import escalations
from app.risks.forms import AcknowledgeForm

bp = Blueprint("escalations", __name__)


@bp.route("/risks/escalations/<int:escalation_id>/acknowledge", methods=["POST"])
@allow(EXECUTIVES)
def acknowledge(escalation_id: int):
    escalation = escalations.get_escalation(escalation_id)
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        flash(" ".join(message for messages in form.errors.values() for message in messages), "error")
    else:
        try:
            escalations.acknowledge(escalation, actor=current_user, note=form.note.data)
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(f"R-{escalation.risk_id} acknowledged; the crisis team sees it on the risk's history.", "success")
    return redirect(url_for("readiness.index", _anchor="escalated"))
