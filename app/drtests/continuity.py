"""Business continuity plans, their simulation tests, and the alternate sites and operation rooms they use."""
from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import func, select

from app.auth.models import User
from app.calendar.services import person_today
from app.drtests.continuity_models import ContinuityPlan, SimulationResult, SimulationTest, Site
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.timeutil import is_valid_zone, utcnow


class PlanFlag(enum.StrEnum):
    NEVER_EXERCISED = "never exercised"
    REVIEW_OVERDUE = "review overdue"
    NO_REVIEW_DATE = "no review date"


def plan_flags(plan: ContinuityPlan, today: date) -> list[PlanFlag]:
    """What is wrong with a plan today: never tested, review date passed or missing."""
    flags = []
    if not plan.tests:
        flags.append(PlanFlag.NEVER_EXERCISED)
    if plan.review_due is None:
        flags.append(PlanFlag.NO_REVIEW_DATE)
    elif plan.review_due < today:
        flags.append(PlanFlag.REVIEW_OVERDUE)
    return flags


def list_plans() -> list[ContinuityPlan]:
    return list(db.session.scalars(select(ContinuityPlan).order_by(ContinuityPlan.name)))


def list_sites() -> list[Site]:
    return list(db.session.scalars(select(Site).order_by(Site.name)))


def get_plan(plan_id: int) -> ContinuityPlan:
    plan = db.session.get(ContinuityPlan, plan_id)
    if plan is None:
        raise NotFound("No such continuity plan.")
    return plan


def get_site(site_id: int) -> Site:
    site = db.session.get(Site, site_id)
    if site is None:
        raise NotFound("No such site.")
    return site


def _unique(model, name: str, record) -> str:
    name = name.strip()
    clash = db.session.scalar(select(model.id).where(func.lower(model.name) == name.lower()))
    if clash is not None and (record is None or clash != record.id):
        raise Conflict("That name is taken.", field="name")
    return name


def save_plan(plan: ContinuityPlan | None, *, name: str, owner_id: int | None = None, scope: str = "",
              teams: str = "", review_due: date | None = None, site_ids: list[int] | None = None) -> ContinuityPlan:
    """Create (plan None) or change a plan; its sites are replaced by `site_ids`."""
    if owner_id is not None and db.session.get(User, owner_id) is None:
        raise Invalid("No such user.", field="owner_id")
    sites = [get_site(site_id) for site_id in dict.fromkeys(site_ids or [])]
    plan = plan or ContinuityPlan()
    plan.name = _unique(ContinuityPlan, name, plan if plan.id else None)
    plan.owner_id, plan.scope, plan.teams, plan.review_due = owner_id, scope or "", (teams or "").strip(), review_due
    plan.sites = sites
    db.session.add(plan)
    db.session.commit()
    return plan


def record_simulation(plan: ContinuityPlan, *, user: User, held_on: date, result: str, notes: str = ""
                      ) -> SimulationTest:
    """Record a simulation test of the plan; a test in the future is refused."""
    if held_on > person_today(user):  # the date as the person who held it writes it
        raise Invalid("A simulation test is recorded once it has been held.", field="held_on")
    test = SimulationTest(plan_id=plan.id, held_on=held_on, result=SimulationResult(result), notes=notes or "",
                          recorded_by_id=user.id)
    db.session.add(test)
    db.session.commit()
    db.session.refresh(plan)
    return test


def save_site(site: Site | None, *, name: str, city: str = "", time_zone: str = "UTC", capacity: int = 0,
              operation_room: str = "") -> Site:
    if not is_valid_zone(time_zone):
        raise Invalid("Unknown time zone.", field="time_zone")
    site = site or Site()
    site.name = _unique(Site, name, site if site.id else None)
    site.city, site.time_zone, site.capacity = (city or "").strip(), time_zone, capacity or 0
    site.operation_room = operation_room or ""
    db.session.add(site)
    db.session.commit()
    return site


def record_readiness_check(site: Site, *, user: User, notes: str = "") -> Site:
    """Stamp the site as checked ready now, by `user`."""
    site.last_check_at, site.last_check_by_id, site.last_check_notes = utcnow(), user.id, (notes or "").strip()
    db.session.commit()
    return site
