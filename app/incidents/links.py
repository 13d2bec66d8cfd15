"""What an incident touches (watched jobs and apps, vendors, continuity sites and operation rooms, risks that
materialised) and the runbooks in use.

Records of other domains are named by kind and id and read through app/record_links.py (names, pages) and the
domains' own services (the pickers); nothing here reaches into their models. Runbooks are named by their slug in
the runbook catalog: `link_runbook` and `record_runbook_use` are what the runbook pages call.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from sqlalchemy import select
from werkzeug.routing import BuildError

from app.alerting.models import Alert
from app.auth.models import User
from app.drtests import continuity
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.incidents.models import LINK_KINDS, Incident, IncidentAlert, IncidentLink, IncidentRunbook, Status
from app.incidents.timeline import record_event, storable_id
from app.record_links import named_table, record_name, record_url
from app.risks import services as risks
from app.runbooks import matching as runbook_matching
from app.timeutil import utcnow
from app.vendors import services as vendors
from app.watchlist import services as watchlist

# kind -> (table, page endpoint, its URL parameter), as record_links.py reads them.
TARGETS = {"job": ("watch_jobs", "watchlist.job", "job_id"), "app": ("watch_apps", "watchlist.app", "app_id"),
           "vendor": ("vendors", "vendors.vendor", "vendor_id"), "site": ("bc_sites", "", ""),
           "risk": ("risks", "risks.risk", "risk_id")}
KIND_LABELS = {"job": "Watched job", "app": "Application", "vendor": "Vendor", "site": "Site or operation room",
               "risk": "Risk that materialised"}
SLUG_MAX = 200


@dataclass(frozen=True)
class Target:
    kind: str
    id: int
    label: str


def _name_of(kind: str, target_id: int) -> str | None:
    if kind == "risk":  # risks have titles, not names: read through the register's services
        try:
            return f"R-{target_id} {risks.get_risk(target_id).title}"
        except NotFound:
            return None
    if named_table(TARGETS[kind]) is None:
        return None
    name = record_name(TARGETS[kind], target_id)
    return None if name is None else str(name)


def checked_target(kind: str, target_id: object, field: str | None = None) -> Target:
    """A record of that kind that exists; Invalid naming `field` (default `<kind>_id`) otherwise."""
    field = field or f"{kind}_id"
    if kind not in LINK_KINDS:
        raise Invalid(f"Choose one of: {', '.join(LINK_KINDS)}.", "kind")
    name = _name_of(kind, target_id) if storable_id(target_id) else None
    if name is None:
        raise Invalid(f"No {KIND_LABELS[kind].lower()} with id {target_id}.", field)
    return Target(kind, target_id, name[:200])


def job_of_alert(alert: Alert) -> Target | None:
    """The watched job an alert is about (its dedup key is job:<id>), when that job still exists."""
    prefix, _, ident = (alert.dedup_key or "").partition(":")
    if prefix != "job" or not ident.isdigit():
        return None
    try:
        return checked_target("job", int(ident))
    except Invalid:
        return None


def choices(kind: str) -> list[tuple[int, str]]:
    """The records an incident can be linked to, read through their domains' services."""
    if kind == "job":
        return watchlist.job_choices()
    if kind == "app":
        return watchlist.app_choices()
    if kind == "vendor":
        return vendors.vendor_choices()
    if kind == "site":
        return [(site.id, f"{site.name} ({site.city})" if site.city else site.name) for site in continuity.list_sites()]
    if kind == "risk":
        return risks.risk_choices()
    raise Invalid(f"Choose one of: {', '.join(LINK_KINDS)}.", "kind")


def link_url(link: IncidentLink) -> str | None:
    """The linked record's page: for a vendor its escalation ladder, for a site its line on the continuity page."""
    if link.kind == "site":
        try:
            return url_for("drtests.continuity_index") + f"#site-{link.target_id}"
        except BuildError:
            return None
    url = record_url(TARGETS[link.kind], link.target_id)
    return url + "#ladder-heading" if url and link.kind == "vendor" else url


def links_of(incident: Incident) -> list[IncidentLink]:
    return list(db.session.scalars(select(IncidentLink).where(IncidentLink.incident_id == incident.id)
                                   .order_by(IncidentLink.kind, IncidentLink.label, IncidentLink.id)))


def add_link_unchecked(incident: Incident, target: Target, *, actor: User) -> IncidentLink | None:
    """Link a checked target (in the caller's transaction); None when it is linked already. A risk that
    materialised says so in its own comments, so the register shows it too."""
    exists = db.session.scalar(select(IncidentLink.id).where(
        IncidentLink.incident_id == incident.id, IncidentLink.kind == target.kind,
        IncidentLink.target_id == target.id))
    if exists is not None:
        return None
    link = IncidentLink(incident_id=incident.id, kind=target.kind, target_id=target.id, label=target.label,
                        added_by=actor.name, added_at=utcnow())
    db.session.add(link)
    record_event(incident, kind="link", actor=actor.name, text=f"{KIND_LABELS[target.kind]}: {target.label}.")
    if target.kind == "risk":
        risks.apply_comment(risks.get_risk(target.id), author=actor,
                            body=f"Materialised in {incident.code} ({incident.severity.code}): {incident.title}")
    return link


def add_link(incident: Incident, *, kind: str, target_id: object, actor: User) -> IncidentLink:
    """Link a job, app, vendor, site or risk that exists, once each; commits."""
    if incident.state is Status.CLOSED:
        raise Conflict(f"{incident.code} is closed.", "kind")
    target = checked_target(kind, target_id, "target_id")
    link = add_link_unchecked(incident, target, actor=actor)
    if link is None:
        raise Conflict(f"{incident.code} is already linked to {target.label}.", "target_id")
    db.session.commit()
    return link


def remove_link(incident: Incident, link_id: int, *, actor: User) -> None:
    link = db.session.get(IncidentLink, link_id) if storable_id(link_id) else None
    if link is None or link.incident_id != incident.id:
        raise NotFound("No such link on this incident.")
    if incident.state is Status.CLOSED:
        raise Conflict(f"{incident.code} is closed.")
    db.session.delete(link)
    record_event(incident, kind="link", actor=actor.name,
                 text=f"No longer linked: {KIND_LABELS[link.kind].lower()} {link.label}.")
    db.session.commit()


# --- runbooks ----------------------------------------------------------------------------------------------------

def clean_slug(slug: object) -> str:
    text = slug.strip().lower() if isinstance(slug, str) else ""
    if not text or len(text) > SLUG_MAX or any(not (c.isalnum() or c in "-_./") for c in text) or ".." in text:
        raise Invalid("Give the runbook's slug, e.g. erp-failover-failback.", "runbook_slug")
    return text


def runbook_url(slug: str) -> str | None:
    """The runbook's page in the catalog, when the catalog's pages are installed."""
    try:
        return url_for("runbooks.show", slug=slug)
    except BuildError:
        return None


def suggested_runbooks(incident: Incident) -> list:
    """The catalog's runbooks covering what the incident touches (its jobs, apps and vendors, its alerts' dedup
    keys) and not yet recorded as in use: one tap from the incident page into run mode."""
    touched = links_of(incident)
    jobs = [job for job in (watchlist.find_job(link.target_id) for link in touched if link.kind == "job") if job]
    apps = [link.label for link in touched if link.kind == "app"] + [job.app.name for job in jobs]
    vendor_names = [link.label for link in touched if link.kind == "vendor"]
    keys = list(db.session.scalars(select(Alert.dedup_key).join(IncidentAlert, IncidentAlert.alert_id == Alert.id)
                                   .where(IncidentAlert.incident_id == incident.id)))
    in_use = {runbook.runbook_slug for runbook in runbooks_of(incident)}
    found = runbook_matching.runbooks_for_many(jobs=jobs, app_names=apps, dedup_keys=keys, vendors=vendor_names)
    return [runbook for runbook in found if runbook.slug not in in_use]


def runbooks_of(incident: Incident) -> list[IncidentRunbook]:
    return list(db.session.scalars(select(IncidentRunbook).where(IncidentRunbook.incident_id == incident.id)
                                   .order_by(IncidentRunbook.added_at, IncidentRunbook.id)))


def link_runbook(incident: Incident, *, slug: str, actor: str, title: str = "") -> IncidentRunbook:
    """Record a runbook as in use on the incident, once (in the caller's transaction; the caller commits)."""
    slug = clean_slug(slug)
    existing = db.session.scalar(select(IncidentRunbook).where(IncidentRunbook.incident_id == incident.id,
                                                               IncidentRunbook.runbook_slug == slug))
    if existing is not None:
        if title and not existing.title:
            existing.title = title[:200]
        return existing
    runbook = IncidentRunbook(incident_id=incident.id, runbook_slug=slug, title=(title or "")[:200],
                              added_by=(actor or "")[:120], added_at=utcnow())
    db.session.add(runbook)
    record_event(incident, kind="runbook", actor=actor, text=f"Runbook in use: {title or slug}.")
    return runbook


def record_runbook_use(incident: Incident | int, *, slug: str, outcome: str, actor: str,
                       title: str = "") -> IncidentRunbook:
    """A run of a runbook for this incident and its outcome (in the caller's transaction; the caller commits)."""
    if isinstance(incident, int):
        incident = db.session.get(Incident, incident)
        if incident is None:
            raise NotFound("No such incident.")
    runbook = link_runbook(incident, slug=slug, actor=actor, title=title)
    runbook.outcome = (outcome or "").strip()[:300]
    record_event(incident, kind="runbook", actor=actor,
                 text=f"Runbook {title or runbook.runbook_slug} used: {runbook.outcome or 'no outcome given'}.")
    return runbook


def add_runbook(incident: Incident, *, slug: object, actor: User, outcome: str = "") -> IncidentRunbook:
    """The page's and the API's "runbook in use", with the outcome of using it when one is given; commits."""
    slug = clean_slug(slug)
    if incident.state is Status.CLOSED:
        raise Conflict(f"{incident.code} is closed.", "runbook_slug")
    if outcome.strip():
        runbook = record_runbook_use(incident, slug=slug, outcome=outcome, actor=actor.name)
    else:
        runbook = link_runbook(incident, slug=slug, actor=actor.name)
    db.session.commit()
    return runbook
