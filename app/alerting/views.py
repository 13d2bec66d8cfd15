"""The Messages page: what Quarterdeck sent you, with each outcome (in console mode, the messages themselves)."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from app.access import allow
from app.alerting.models import OutboundMessage
from app.auth.roles import EVERYONE
from app.extensions import db
from app.views_common import page_args

bp = Blueprint("alerting", __name__)


@bp.route("/messages")
@allow(EVERYONE)
def messages():
    page, per_page = page_args()
    query = (select(OutboundMessage).where(OutboundMessage.user_id == current_user.id)
             .order_by(OutboundMessage.created_at.desc(), OutboundMessage.id.desc()))
    return render_template("alerting/messages.html",
                           messages=db.paginate(query, page=page, per_page=per_page, error_out=False))
