"""Reading the audit trail."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, select

from app.audit.models import Audited, AuditEvent
from app.errors import NotFound
from app.extensions import db
from app.keyset import KeysetPage, keyset_page
from app.timeutil import start_of_day

ACTIONS = ("create", "update", "delete")


def audited_models() -> dict[str, type]:
    """Table name -> model class, for every model that carries the Audited mixin."""
    return {mapper.class_.__tablename__: mapper.class_ for mapper in db.Model.registry.mappers
            if issubclass(mapper.class_, Audited)}


def model_for(entity_type: str) -> type:
    model = audited_models().get(entity_type)
    if model is None:
        raise NotFound(f"No audited record type {entity_type!r}.")
    return model


def history(entity_type: str, entity_id: str) -> list[AuditEvent]:
    """Every recorded change of one record, newest first."""
    model_for(entity_type)
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())))


@dataclass(frozen=True)
class AuditFilter:
    entity_type: str | None = None
    action: str | None = None
    actor: str | None = None
    since: date | None = None
    until: date | None = None
    zone: str = "UTC"  # whose dates `since` and `until` are: the page's viewer; the API's are UTC


# Newest first; the id breaks ties between changes written in the same instant, which keyset pages need.
EVENT_ORDER = [AuditEvent.occurred_at.desc(), AuditEvent.id.desc()]


def events_matching(criteria: AuditFilter) -> Select:
    """The trail narrowed by `criteria`, unordered (dates are inclusive, local days of `criteria.zone`)."""
    query = select(AuditEvent)
    if criteria.entity_type:
        query = query.where(AuditEvent.entity_type == criteria.entity_type)
    if criteria.action:
        query = query.where(AuditEvent.action == criteria.action)
    if criteria.actor:
        query = query.where(AuditEvent.actor_label.icontains(criteria.actor.strip(), autoescape=True))
    if criteria.since:
        query = query.where(AuditEvent.occurred_at >= start_of_day(criteria.since, criteria.zone))
    if criteria.until:
        query = query.where(AuditEvent.occurred_at < start_of_day(criteria.until + timedelta(days=1), criteria.zone))
    return query


def filtered_events(criteria: AuditFilter) -> Select:
    """The trail narrowed by `criteria`, newest first."""
    return events_matching(criteria).order_by(*EVENT_ORDER)


def events_page(criteria: AuditFilter, *, after: str | None = None, before: str | None = None,
                per_page: int = 50) -> KeysetPage:
    """One page of the trail narrowed by `criteria`, newest first, after or before a cursor (app/keyset.py)."""
    return keyset_page(events_matching(criteria), EVENT_ORDER, after=after, before=before, per_page=per_page)
