"""Register pages: the list with its filters, heat map and trend, and creating and editing a risk.

The risk page and its forms are in risk_views.py; settings and CSV in admin_views.py (same blueprint).
Everyone reads; the crisis team and administrators edit; administrators change the grid and cadence.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import allow
from app.auth.roles import EDITORS, EVERYONE
from app.errors import DomainError
from app.forms_common import form_values
from app.risks import actions, cadence, charts, history, register, services
from app.risks.forms import NewRiskForm, RiskForm
from app.risks.models import LEVEL_ORDER, RiskCategory, RiskStatus
from app.risks.scoring import current_settings, grid_rows_for_display
from app.timeutil import to_zone
from app.views_common import apply_domain_error, keyset_args

bp = Blueprint("risks", __name__)


def _quarter_options(settings, keep: str | None = None) -> list[tuple[str, str]]:
    return [(label, label) for label in services.quarter_choices(settings, keep)]


@bp.route("/risks")
@allow(EVERYONE)
def register_page():
    settings = current_settings()
    today = cadence.team_today(settings)
    criteria = register.parse_filter(request.args)
    sort = request.args.get("sort") if request.args.get("sort") in register.SORTS else register.DEFAULT_SORT
    after, before, per_page = keyset_args()
    listing = register.register_page(criteria, today, sort, after=after, before=before, per_page=per_page)
    trend = history.open_trend(zone=settings.review_zone)
    return render_template(
        "risks/register.html", listing=listing, criteria=criteria, args=criteria.args(), sort=sort,
        pager_args=dict(criteria.args(), sort=sort, **({"per_page": per_page} if "per_page" in request.args else {})),
        cell_free_args={k: v for k, v in criteria.args().items() if k not in ("likelihood", "impact")},
        sorts=register.SORTS, today=today, counts=actions.action_counts([r.id for r in listing.items], today),
        heat=register.heat_map(criteria, today), grid=grid_rows_for_display(settings.grid),
        chart=charts.trend_chart(trend, lambda at: to_zone(at, settings.review_zone).date()),
        owners=register.owners_with_risks(), quarters=register.quarters_with_risks(),
        statuses=list(RiskStatus), levels=LEVEL_ORDER, categories=list(RiskCategory),
        overdue_choices=register.OVERDUE_CHOICES)


@bp.route("/risks/new", methods=["GET", "POST"])
@allow(EDITORS)
def new_risk():
    settings = current_settings()
    form = NewRiskForm() if request.method == "POST" else NewRiskForm(
        owner_id=current_user.id, quarter=services.quarter_choices(settings)[1])
    form.quarter.choices = _quarter_options(settings, form.quarter.data)
    if form.validate_on_submit():
        try:
            risk = services.create_risk(**form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"Risk R-{risk.id} created: {risk.level.value}. Add its mitigation actions below.", "success")
            return redirect(url_for("risks.risk", risk_id=risk.id))
    return render_template("risks/risk_form.html", form=form, risk=None), 422 if form.errors else 200


@bp.route("/risks/<int:risk_id>/edit", methods=["GET", "POST"])
@allow(EDITORS)
def edit_risk(risk_id: int):
    risk = services.get_risk(risk_id)
    settings = current_settings()
    form = RiskForm() if request.method == "POST" else RiskForm(data=services.risk_fields(risk))
    form.quarter.choices = _quarter_options(settings, form.quarter.data)
    if form.validate_on_submit():
        try:
            services.update_risk(risk, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"R-{risk.id} saved.", "success")
            return redirect(url_for("risks.risk", risk_id=risk.id))
    return render_template("risks/risk_form.html", form=form, risk=risk), 422 if form.errors else 200
