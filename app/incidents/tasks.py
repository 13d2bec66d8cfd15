"""Action items during an incident: an owner and a due time; open ones show on the incident and the owner's home."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, select

from app.auth.models import User
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.incidents.models import Incident, IncidentTask, Status, TaskStatus
from app.incidents.services import active_person, clean_text
from app.incidents.timeline import record_event, storable_id
from app.timeutil import as_utc, utcnow


def get_task(incident: Incident, task_id: int) -> IncidentTask:
    task = db.session.get(IncidentTask, task_id) if storable_id(task_id) else None
    if task is None or task.incident_id != incident.id:
        raise NotFound("No such task on this incident.")
    return task


def tasks_of(incident: Incident) -> list[IncidentTask]:
    """Open tasks first (soonest due first), then the done and dropped ones."""
    return list(db.session.scalars(select(IncidentTask).where(IncidentTask.incident_id == incident.id).order_by(
        case((IncidentTask.status == TaskStatus.OPEN.value, 0), else_=1), IncidentTask.due_at.is_(None),
        IncidentTask.due_at, IncidentTask.id)))


def open_tasks_for(person: User, limit: int = 50) -> list[IncidentTask]:
    """The person's open tasks on incidents that are not closed, soonest due first (their home page)."""
    return list(db.session.scalars(select(IncidentTask).join(Incident).where(
        IncidentTask.owner_id == person.id, IncidentTask.status == TaskStatus.OPEN.value,
        Incident.status != Status.CLOSED.value).order_by(IncidentTask.due_at.is_(None), IncidentTask.due_at,
                                                         IncidentTask.id).limit(limit)))


def add_task(incident: Incident, *, title: str, owner_id: int | None, due_at: datetime | None,
             actor: User) -> IncidentTask:
    """Add an action item (its owner must be an active person; its due time aware); commits."""
    title = clean_text(title, "title", 200, required="Say what has to be done.")
    owner = active_person(owner_id, "owner_id")
    if due_at is not None and (due_at.tzinfo is None or due_at.utcoffset() is None):
        raise Invalid("Give the due time with its offset.", "due_at")
    if incident.state is Status.CLOSED:
        raise Conflict(f"{incident.code} is closed.", "title")
    task = IncidentTask(incident_id=incident.id, title=title, owner_id=owner.id,
                        due_at=as_utc(due_at) if due_at else None, created_by=actor.name, created_at=utcnow())
    db.session.add(task)
    record_event(incident, kind="task", actor=actor.name,
                 text=f"Task for {owner.name}" + (f" due {task.due_at:%Y-%m-%d %H:%M} UTC" if task.due_at else "")
                      + f": {title}")
    db.session.commit()
    return task


def set_task_status(incident: Incident, task: IncidentTask, *, status: str, actor: User) -> IncidentTask:
    """Mark a task done, dropped or open again; commits."""
    try:
        new = TaskStatus(status)
    except ValueError:
        raise Invalid("Choose open, done or dropped.", "status") from None
    if incident.state is Status.CLOSED:
        raise Conflict(f"{incident.code} is closed.", "status")
    if task.status == new.value:
        raise Invalid(f"The task is already {new.value}.", "status")
    task.status = new.value
    task.closed_at, task.closed_by = (None, "") if new is TaskStatus.OPEN else (utcnow(), actor.name)
    record_event(incident, kind="task", actor=actor.name, text=f"Task {new.value} by {actor.name}: {task.title}")
    db.session.commit()
    return task
