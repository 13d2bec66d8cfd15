"""SMS replies: a short code per phone and open alert, parsing what people type, acting on it.

Codes are the smallest number not held by another open alert on the same phone, so a person sees small
numbers (`12`), and a code is free again once its alert is resolved. A resolved alert keeps its code row
until the number is given out again, so a late `12r` is answered "#12 was already resolved by ..." rather
than "no open alert". Replies are case-insensitive and tolerant of spaces: `12a`, `12 A`, `ack 12`, `a`
(the newest unacknowledged alert for that phone; the answer names it), `aa` or `ack all` (every alert of the
last bundled SMS the phone got), `12r`, `12e`, STOP / START (the carrier-level opt-out words).

Other domains add reply words of their own with `register_reply_action` (from create_app): `12i` then reads
as that action on alert 12 (`i 12` too; a registered word always needs a code), and its handler answers.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from flask import Flask, current_app, has_app_context, render_template
from sqlalchemy import delete, func, insert, or_, select, tuple_
from sqlalchemy.exc import IntegrityError

from app.alerting import services
from app.alerting.models import Alert, AlertStatus, MessageStatus, OutboundMessage, ReplyCode
from app.auth.models import User
from app.extensions import db
from app.oncall.models import ContactKind, ContactMethod
from app.timeutil import to_zone, utcnow

ACTIONS = {"a": "ack", "ack": "ack", "acknowledge": "ack", "r": "resolve", "res": "resolve", "resolve": "resolve",
           "e": "escalate", "esc": "escalate", "escalate": "escalate"}
REPLY_ACTIONS_KEY = "quarterdeck.reply_actions"
ACK_ALL_WORDS = {"aa", "ack all", "acknowledge all", "a all"}
STOP_WORDS = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit"}
START_WORDS = {"start", "unstop", "yes"}
HELP_CAP, HELP_WINDOW = 3, timedelta(hours=1)  # error and help answers per number


def code_for(phone: str, alert: Alert) -> int:
    """The phone's reply code for the alert, allocating the smallest free one (race-safe by a unique index)."""
    existing = db.session.scalar(select(ReplyCode.code).where(ReplyCode.phone == phone, ReplyCode.alert_id == alert.id))
    if existing is not None:
        return existing
    resolved = select(Alert.id).where(Alert.status == AlertStatus.RESOLVED.value)
    for _ in range(5):
        taken = set(db.session.scalars(select(ReplyCode.code).where(
            ReplyCode.phone == phone, ReplyCode.alert_id.not_in(resolved))))
        code = next(number for number in range(1, len(taken) + 2) if number not in taken)
        try:
            with db.session.begin_nested():
                # The number's last resolved alert gives it up now (never an open alert's row: another
                # process may have taken the number meanwhile, and then the insert below conflicts).
                db.session.execute(delete(ReplyCode).where(ReplyCode.phone == phone, ReplyCode.code == code,
                                                           ReplyCode.alert_id.in_(resolved)))
                db.session.add(ReplyCode(phone=phone, code=code, alert_id=alert.id))
            return code
        except IntegrityError:
            continue  # another process took that number (or gave this alert a code) just now
    existing = db.session.scalar(select(ReplyCode.code).where(ReplyCode.phone == phone, ReplyCode.alert_id == alert.id))
    if existing is None:
        raise RuntimeError(f"could not allocate a reply code for {phone}")
    return existing


def allocate_codes(wanted: list[tuple[str, Alert]]) -> dict[tuple[str, int], int]:
    """Reply codes for many (phone, alert) pairs at once, as `code_for` gives them one by one: a few statements
    for a whole batch of pages instead of several per page. {(phone, alert id): code}."""
    phones = sorted({phone for phone, _alert in wanted})
    if not phones:
        return {}
    rows = db.session.execute(select(ReplyCode.phone, ReplyCode.code, ReplyCode.alert_id, Alert.status)
                              .join(Alert, Alert.id == ReplyCode.alert_id).where(ReplyCode.phone.in_(phones))).all()
    codes = {(row.phone, row.alert_id): row.code for row in rows}
    taken: dict[str, set[int]] = {phone: set() for phone in phones}
    for row in rows:
        if row.status != AlertStatus.RESOLVED.value:
            taken[row.phone].add(row.code)
    new: list[tuple[str, int, int]] = []
    # Newest first, as a bundle lists them: the newest alert gets the smallest free code.
    for phone, alert in sorted(wanted, key=lambda pair: (pair[0], -pair[1].created_at.timestamp(), -pair[1].id)):
        if (phone, alert.id) in codes:
            continue
        code = next(number for number in range(1, len(taken[phone]) + 2) if number not in taken[phone])
        taken[phone].add(code)
        codes[(phone, alert.id)] = code
        new.append((phone, code, alert.id))
    if not new:
        return codes
    resolved = select(Alert.id).where(Alert.status == AlertStatus.RESOLVED.value)
    try:
        with db.session.begin_nested():
            db.session.execute(delete(ReplyCode).where(
                tuple_(ReplyCode.phone, ReplyCode.code).in_([(phone, code) for phone, code, _id in new]),
                ReplyCode.alert_id.in_(resolved)).execution_options(synchronize_session=False))
            db.session.execute(insert(ReplyCode), [{"phone": phone, "code": code, "alert_id": alert_id,
                                                    "created_at": utcnow()} for phone, code, alert_id in new])
    except IntegrityError:
        # Another engine gave one of these phones a code at the same moment: take them one by one.
        by_id = {alert.id: alert for _phone, alert in wanted}
        return {(phone, alert_id): code_for(phone, by_id[alert_id]) for phone, alert_id in
                {(phone, alert.id) for phone, alert in wanted}}
    return codes


@dataclass(frozen=True)
class Command:
    action: str  # ack | ack_all | resolve | escalate | stop | start | help | a registered action's name
    code: int | None = None


# (alert_id, the replying person, their phone, the code they used) -> the answer to send back. The handler
# commits its own work; it is called only for a code that names an alert on that phone.
ReplyHandler = Callable[[int, User, str, int], str]


@dataclass(frozen=True)
class ReplyAction:
    name: str
    words: tuple[str, ...]
    handler: ReplyHandler


def register_reply_action(app: Flask, name: str, handler: ReplyHandler, *, words: tuple[str, ...]) -> None:
    """Teach the SMS parser `words` (e.g. ("i", "inc")) meaning action `name`, answered by `handler`.

    A word may not shadow a built-in one (a, ack, r, e, stop ...) or another action's; registering the same
    action again replaces it (create_app may run more than once in a process).
    """
    clean = tuple(sorted({word.strip().lower() for word in words}))
    if not name or not clean or any(not re.fullmatch(r"[a-z]{1,12}", word) for word in clean):
        raise ValueError(f"reply action {name!r} needs words of 1-12 letters, got {words!r}")
    actions: dict[str, ReplyAction] = app.extensions.setdefault(REPLY_ACTIONS_KEY, {})
    taken = set(ACTIONS) | STOP_WORDS | START_WORDS | {"aa"}
    taken |= {word for other in actions.values() if other.name != name for word in other.words}
    if clashes := taken.intersection(clean):
        raise ValueError(f"reply words {sorted(clashes)} are already taken")
    actions[name] = ReplyAction(name, clean, handler)


def registered_actions() -> Mapping[str, ReplyAction]:
    """The reply actions registered on the current app (none outside an app context)."""
    return current_app.extensions.get(REPLY_ACTIONS_KEY, {}) if has_app_context() else {}


@lru_cache(maxsize=16)
def _patterns(extra: tuple[str, ...]) -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    word = "|".join(sorted([*ACTIONS, *extra], key=len, reverse=True))
    return (re.compile(rf"^(\d{{1,4}})\s*({word})$"), re.compile(rf"^({word})\s*#?\s*(\d{{1,4}})$"),
            re.compile(rf"^({word})$"))


def parse_reply(body: str, extra: Mapping[str, str] | None = None) -> Command:
    """What a reply asks for; anything unrecognised is `help`.

    `extra` maps registered words to their action's name (default: the current app's registered actions); a
    registered word alone, without a code, is `help`.
    """
    if extra is None:
        extra = {word: action.name for action in registered_actions().values() for word in action.words}
    words = {**ACTIONS, **extra}
    code_first, word_first, word_alone = _patterns(tuple(sorted(extra)))
    text = " ".join((body or "").lower().split())
    if text in STOP_WORDS:
        return Command("stop")
    if text in START_WORDS:
        return Command("start")
    if text in ACK_ALL_WORDS:
        return Command("ack_all")
    if match := code_first.match(text):
        return Command(words[match.group(2)], int(match.group(1)))
    if match := word_first.match(text):
        return Command(words[match.group(1)], int(match.group(2)))
    if (match := word_alone.match(text)) and match.group(1) in ACTIONS:
        return Command(ACTIONS[match.group(1)])
    return Command("help")


def _sms_methods(phone: str) -> list[ContactMethod]:
    return list(db.session.scalars(select(ContactMethod).where(ContactMethod.address == phone,
                                                               ContactMethod.kind == ContactKind.SMS)))


def _record_reply(phone: str, person: User | None, method: ContactMethod | None, text: str, purpose: str,
                  alert: Alert | None = None) -> None:
    db.session.add(OutboundMessage(user_id=person.id if person else None, contact_method_id=method.id if method else None,
                                   alert_id=alert.id if alert else None, channel="twilio_sms", kind="sms",
                                   address=phone, purpose=purpose, body=text, status=MessageStatus.SENT.value,
                                   attempts=1, sent_at=utcnow()))


def _help_allowed(phone: str) -> bool:
    recent = db.session.scalar(select(func.count()).select_from(OutboundMessage).where(
        OutboundMessage.address == phone, OutboundMessage.purpose == "sms_help",
        OutboundMessage.sent_at >= utcnow() - HELP_WINDOW))
    return recent < HELP_CAP


def _alert_for(phone: str, code: int | None) -> Alert | None:
    """The alert a code names on this phone; without a code, the newest one nobody has acknowledged yet."""
    query = select(Alert).join(ReplyCode, ReplyCode.alert_id == Alert.id).where(ReplyCode.phone == phone)
    if code is not None:
        return db.session.scalar(query.where(ReplyCode.code == code))
    return db.session.scalar(query.where(Alert.status == AlertStatus.TRIGGERED.value)
                             .order_by(Alert.created_at.desc(), Alert.id.desc()).limit(1))


def last_page_alerts(phone: str) -> list[Alert]:
    """The alerts of the last page this phone was sent by SMS: one alert, or every alert of a bundle."""
    last = db.session.scalar(select(OutboundMessage.id).where(
        OutboundMessage.address == phone, OutboundMessage.kind == "sms", OutboundMessage.purpose == "alert",
        OutboundMessage.status.in_((MessageStatus.SENT.value, MessageStatus.DELIVERED.value)))
        .order_by(OutboundMessage.sent_at.desc(), OutboundMessage.id.desc()).limit(1))
    if last is None:
        return []
    ids = set(db.session.scalars(select(OutboundMessage.alert_id).where(
        or_(OutboundMessage.id == last, OutboundMessage.bundled_into_id == last),
        OutboundMessage.alert_id.is_not(None))))
    return list(db.session.scalars(select(Alert).where(Alert.id.in_(ids)).order_by(Alert.created_at.desc(),
                                                                                   Alert.id.desc())))


def handle_sms_reply(phone: str, body: str) -> str | None:
    """Act on a reply from `phone` and commit; the answer to send back, or None (unknown number, capped, STOP)."""
    methods = _sms_methods(phone)
    if not methods:
        return None  # unknown numbers get no answer at all
    method = methods[0]
    person = method.user
    command = parse_reply(body)
    if command.action in ("stop", "start"):
        return _opt(methods, person, command.action == "stop")
    if command.action == "ack_all":
        return _ack_all(phone, person, method)
    alert = _alert_for(phone, command.code) if command.action != "help" else None
    extension = registered_actions().get(command.action)
    if alert is None:
        if not _help_allowed(phone):
            db.session.rollback()
            return None
        answer = render_template("messages/sms_help.txt", code=command.code, action=command.action).strip()
        _record_reply(phone, person, method, answer, "sms_help")
        db.session.commit()
        return answer
    if extension is not None:
        answer = extension.handler(alert.id, person, phone, command.code)
    else:
        answer = _act(alert.id, command.action, person, phone, command.code)
    _record_reply(phone, person, method, answer, "sms_reply", db.session.get(Alert, alert.id))
    db.session.commit()
    return answer


def _ack_all(phone: str, person: User, method: ContactMethod) -> str | None:
    """`aa`: acknowledge every alert of the last bundle this phone got (those still unacknowledged)."""
    alerts = last_page_alerts(phone)
    if not alerts:
        if not _help_allowed(phone):
            db.session.rollback()
            return None
        answer = render_template("messages/sms_help.txt", code=None, action="ack_all").strip()
        _record_reply(phone, person, method, answer, "sms_help")
        db.session.commit()
        return answer
    via = f"SMS from {phone}"
    acknowledged = []
    for alert in alerts:
        _alert, changed = services.act_and_commit(alert.id, lambda a: services.acknowledge(a, actor=person.name,
                                                                                             via=via))
        if changed:
            acknowledged.append(code_for(phone, alert))
    answer = render_template("messages/sms_answer_all.txt", codes=acknowledged, total=len(alerts)).strip()
    _record_reply(phone, person, method, answer, "sms_reply", alerts[0])
    db.session.commit()
    return answer


def _act(alert_id: int, action: str, person: User, phone: str, code: int | None) -> str:
    via = f"SMS from {phone}"
    if code is None:  # "a" alone: name the alert by the code it holds on this phone
        code = db.session.scalar(select(ReplyCode.code).where(ReplyCode.phone == phone,
                                                              ReplyCode.alert_id == alert_id))
    do = {"ack": services.acknowledge, "resolve": services.resolve, "escalate": services.escalate}[action]
    alert, changed = services.act_and_commit(alert_id, lambda a: do(a, actor=person.name, via=via))
    return render_template("messages/sms_answer.txt", action=action, changed=changed, code=code, alert=alert,
                           acknowledged_at=_clock(alert.acknowledged_at, person.time_zone),
                           resolved_at=_clock(alert.resolved_at, person.time_zone)).strip()


def _clock(at, zone: str) -> str:
    return to_zone(at, zone).strftime("%H:%M") if at is not None else ""


def _opt(methods: list[ContactMethod], person: User, stop: bool) -> str | None:
    now = utcnow()
    for method in methods:
        if stop:
            method.disabled_at, method.disabled_reason = now, "Replied STOP: SMS is off until START is sent."
        elif method.disabled_reason and method.disabled_reason.startswith("Replied STOP"):
            method.disabled_at, method.disabled_reason = None, None
    db.session.commit()
    # After STOP the carrier answers (and blocks anything else); after START we confirm.
    return None if stop else render_template("messages/sms_started.txt").strip()
