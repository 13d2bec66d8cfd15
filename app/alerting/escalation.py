"""Escalation: run a policy step for an alert, expand each person's notification rules into outbox rows.

No function here commits or sends: they write rows in the caller's transaction, and the engine sends later.
The alert's `version` column makes every change compare-and-set, so when two engine processes try the
same step one of them gets StaleDataError and rolls back, messages included.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.alerting import timeline
from app.alerting.models import Alert, AlertStatus, MessageStatus, OutboundMessage
from app.auth.models import User
from app.extensions import db
from app.oncall.close_mode import EffectiveStep, snapshot_policy, steps_from_snapshot
from app.oncall.coverage import load_schedule, who_is_on_call
from app.oncall.models import ContactKind, ContactMethod, EscalationPolicy
from app.oncall.services import notification_plan

FIRST_PAGE, UPDATE = 0, 1  # outbox priorities: a new alert's first page goes before everything else
OPEN_MESSAGE_STATES = (MessageStatus.PENDING.value, MessageStatus.SENDING.value)


def effective_steps(alert: Alert) -> list[EffectiveStep]:
    """The alert's steps from its snapshot; close mode is judged at the moment escalation (re)started."""
    if not alert.policy_snapshot:
        return []
    return steps_from_snapshot(alert.policy_snapshot, alert.escalation_started_at or alert.created_at)


def people_for(step: EffectiveStep, at: datetime) -> tuple[list[User], list[str]]:
    """Who the step's targets are at `at`, without repeats; and notes on targets that yield nobody."""
    people: list[User] = []
    notes: list[str] = []
    for target in step.targets:
        if target.is_schedule:
            schedule = load_schedule(target.schedule_id)
            found = who_is_on_call(schedule, at) if schedule is not None else []
            if not found:
                notes.append(f"nobody is on call in {target.label}" if schedule is not None
                             else f"schedule {target.label} no longer exists")
        else:
            user = db.session.get(User, target.user_id)
            found = [user] if user is not None and user.active else []
            if not found:
                notes.append(f"{target.label} is no longer an active user")
        people.extend(person for person in found if person not in people)
    return people, notes


def _busy_methods(alert: Alert) -> set[int]:
    return set(db.session.scalars(select(OutboundMessage.contact_method_id).where(
        OutboundMessage.alert_id == alert.id, OutboundMessage.status.in_(OPEN_MESSAGE_STATES))))


def queue_message(alert: Alert, person: User, method: ContactMethod, *, due_at: datetime, priority: int,
                  purpose: str = "alert") -> OutboundMessage:
    """Write one outbox row; its text is written when it is sent (it may be bundled with others by then)."""
    message = OutboundMessage(user_id=person.id, contact_method_id=method.id, alert_id=alert.id, channel="",
                              kind=method.kind.value, address=method.address, purpose=purpose, body="",
                              status=MessageStatus.PENDING.value, priority=priority, due_at=due_at, attempts=0)
    db.session.add(message)
    return message


def close_mode_calls(person: User) -> list[ContactMethod]:
    """The person's verified, enabled voice methods: close mode calls each of them, whatever their rules say."""
    return list(db.session.scalars(select(ContactMethod).where(
        ContactMethod.user_id == person.id, ContactMethod.kind == ContactKind.VOICE,
        ContactMethod.verified_at.is_not(None), ContactMethod.disabled_at.is_(None)).order_by(ContactMethod.id)))


def page_person(alert: Alert, person: User, now: datetime, *, voice_first: bool, priority: int) -> int:
    """Queue the person's notification rules for the alert; returns how many messages were queued.

    A method that already has a message waiting for this alert is not queued twice. In close mode
    (voice_first) the person is called at once on every voice number they have verified, even one their
    rules do not use (close mode promises a call), and texted as their rules say.
    """
    plan = notification_plan(person)
    if voice_first:
        planned = {method.id for _delay, method in plan}
        plan += [(0, method) for method in close_mode_calls(person) if method.id not in planned]
        plan = sorted((((0 if method.kind == ContactKind.VOICE else delay), method) for delay, method in plan),
                      key=lambda item: (item[0], item[1].kind != ContactKind.VOICE))
    busy = _busy_methods(alert)
    queued = 0
    for delay, method in plan:
        if method.id in busy:
            continue
        queue_message(alert, person, method, due_at=now + timedelta(minutes=delay), priority=priority)
        queued += 1
    return queued


def run_step(alert: Alert, now: datetime) -> int:
    """Page the targets of the alert's next step and move the pointer on; returns the messages queued.

    After the last step the policy starts over while it has repeats left. When it has run out (its last
    step's wait is over and nobody acknowledged), the organisation's fallback policy pages once and the
    alert is marked unanswered; after that, escalation is exhausted. A step that reaches nobody (a gap,
    nobody with a usable method) does not wait its delay: the next step is due at once.
    """
    steps = effective_steps(alert)
    if not steps or alert.escalation_step >= len(steps):
        if not switch_to_fallback(alert, now):
            alert.next_escalation_at, alert.escalation_exhausted = None, True
            timeline.note(alert, "exhausted", "No escalation policy and no fallback policy: nobody is paged."
                          if not steps else "The policy has run out and nobody acknowledged; there is no "
                          "fallback policy left to page.")
            return 0
        steps = effective_steps(alert)
    index = alert.escalation_step
    step = steps[index]
    people, notes = people_for(step, now)
    first_page = index == 0 and alert.escalation_round == 0 and not _has_paged(alert)
    queued = 0
    unreachable = []
    for person in people:
        count = page_person(alert, person, now, voice_first=step.voice_first,
                            priority=FIRST_PAGE if first_page else UPDATE)
        queued += count
        if count == 0 and not _person_has_open_messages(alert, person):
            unreachable.append(person.name)
    round_text = f" (round {alert.escalation_round + 1})" if alert.escalation_round else ""
    names = ", ".join(person.name for person in people) or "nobody"
    details = "; ".join(notes + [f"{name} has no usable contact method" for name in unreachable])
    timeline.note(alert, "escalated", f"Step {index + 1}{round_text}: paging {names}."
                  + (f" ({details})" if details else "")
                  + (" Close mode: calling first." if step.voice_first else ""))
    _move_pointer(alert, steps, index, now, reached=queued > 0 or _has_open_messages(alert))
    return queued


def _move_pointer(alert: Alert, steps: list[EffectiveStep], index: int, now: datetime, *, reached: bool) -> None:
    repeat = int((alert.policy_snapshot or {}).get("repeat", 0))
    if index + 1 < len(steps):
        alert.escalation_step = index + 1
    elif alert.escalation_round < repeat:
        alert.escalation_step, alert.escalation_round = 0, alert.escalation_round + 1
    else:
        # Past the last step: when its wait is over with nobody acknowledging, the fallback is next.
        alert.escalation_step = len(steps)
    if reached:
        alert.next_escalation_at = now + timedelta(minutes=steps[index].delay_minutes)
    else:
        alert.next_escalation_at = now
        timeline.note(alert, "escalated", "Nobody could be paged at that step: going on to the next at once.")


def _has_paged(alert: Alert) -> bool:
    return db.session.scalar(select(OutboundMessage.id).where(OutboundMessage.alert_id == alert.id).limit(1)) \
        is not None


def _has_open_messages(alert: Alert) -> bool:
    return db.session.scalar(select(OutboundMessage.id).where(
        OutboundMessage.alert_id == alert.id, OutboundMessage.status.in_(OPEN_MESSAGE_STATES)).limit(1)) is not None


def _person_has_open_messages(alert: Alert, person: User) -> bool:
    return db.session.scalar(select(OutboundMessage.id).where(
        OutboundMessage.alert_id == alert.id, OutboundMessage.user_id == person.id,
        OutboundMessage.status.in_(OPEN_MESSAGE_STATES)).limit(1)) is not None


def fallback_policy() -> EscalationPolicy | None:
    """The organisation's fallback policy (an admin's setting), if one is set and has steps."""
    policy = db.session.scalar(select(EscalationPolicy).where(EscalationPolicy.is_fallback.is_(True)))
    return policy if policy is not None and policy.steps else None


def switch_to_fallback(alert: Alert, now: datetime) -> bool:
    """Escalate by the fallback policy from its first step, once per alert; False when there is none to use.

    Used when an alert has no policy at all, and when its policy ran out with nobody acknowledging (then the
    alert is marked unanswered: it shows so on the alert lists and the executive page).
    """
    snapshot = alert.policy_snapshot or {}
    fallback = fallback_policy()
    if fallback is None or snapshot.get("fallback"):
        return False
    ran_out = bool(snapshot.get("steps"))
    if ran_out and snapshot.get("policy_id") == fallback.id:
        return False  # the fallback was the alert's own policy: it has had its turn
    alert.policy_snapshot = {**snapshot_policy(fallback), "repeat": 0, "fallback": True}
    alert.escalation_step, alert.escalation_round, alert.escalation_exhausted = 0, 0, False
    alert.escalation_started_at = alert.escalation_started_at or now
    if ran_out:
        alert.unanswered_at = now
        timeline.note(alert, "unanswered", f"Nobody acknowledged by the end of {snapshot.get('name', 'its policy')}: "
                      f"paging the fallback policy {fallback.name} once.")
    else:
        alert.policy_id = fallback.id
        timeline.note(alert, "fallback", f"No escalation policy of its own: paging the fallback policy "
                      f"{fallback.name}.")
    return True


def restart_escalation(alert: Alert, now: datetime) -> None:
    """Start the policy again from its first step (after an acknowledgement timed out, or by hand)."""
    alert.status = AlertStatus.TRIGGERED.value
    alert.escalation_step, alert.escalation_round, alert.escalation_exhausted = 0, 0, False
    alert.escalation_started_at, alert.next_escalation_at, alert.ack_deadline = now, now, None
