"""DR test templates and their steps. Every change bumps the template's version; exercises keep their copy."""
from __future__ import annotations

from sqlalchemy import func, select

from app.drtests.models import DrExercise, DrTemplate, DrTemplateStep, Phase
from app.errors import Conflict, Invalid, NotFound
from app.extensions import db
from app.watchlist.models import WatchedApp

STEP_FIELDS = ("title", "instructions", "owner", "expected_minutes", "phase", "depends_on", "counts_toward_recovery",
               "evidence_required", "critical")


def list_templates() -> list[DrTemplate]:
    return list(db.session.scalars(select(DrTemplate).order_by(DrTemplate.name)))


def get_template(template_id: int) -> DrTemplate:
    template = db.session.get(DrTemplate, template_id)
    if template is None:
        raise NotFound("No such DR test template.")
    return template


def _check_name(name: str, template: DrTemplate | None) -> str:
    name = name.strip()
    clash = db.session.scalar(select(DrTemplate.id).where(func.lower(DrTemplate.name) == name.lower()))
    if clash is not None and (template is None or clash != template.id):
        raise Conflict("A template with this name exists.", field="name")
    return name


def covered_systems(systems: str) -> list[tuple[str, int | None]]:
    """The comma-separated systems of a template or exercise, each with its watch-list app id when one has that name."""
    names = [name.strip() for name in (systems or "").split(",") if name.strip()]
    apps = {app.name.lower(): app.id for app in db.session.scalars(
        select(WatchedApp).where(func.lower(WatchedApp.name).in_([name.lower() for name in names])))} if names else {}
    return [(name, apps.get(name.lower())) for name in names]


def create_template(*, name: str, systems: str = "", description: str = "", rto_minutes: int,
                    rpo_minutes: int) -> DrTemplate:
    """A new template at version 1, without steps."""
    template = DrTemplate(name=_check_name(name, None), systems=(systems or "").strip(),
                          description=description or "", rto_minutes=rto_minutes, rpo_minutes=rpo_minutes,
                          version=1)
    db.session.add(template)
    db.session.commit()
    return template


def update_template(template: DrTemplate, *, name: str, systems: str = "", description: str = "",
                    rto_minutes: int, rpo_minutes: int) -> DrTemplate:
    """Change the template's header; the version goes up, exercises already scheduled keep their targets."""
    template.name = _check_name(name, template)
    template.systems, template.description = (systems or "").strip(), description or ""
    template.rto_minutes, template.rpo_minutes = rto_minutes, rpo_minutes
    template.version += 1
    db.session.commit()
    return template


def parse_dependencies(text: str | None, position: int) -> str:
    """Normalise "1, 3" to "1,3"; each must name an earlier step, so dependencies can never loop."""
    positions: list[int] = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit():
            raise Invalid("List step numbers separated by commas, e.g. 1, 3.", field="depends_on")
        number = int(part)
        if not 1 <= number < position:
            raise Invalid(f"Step {position} can only depend on earlier steps (1 to {position - 1}).",
                          field="depends_on")
        if number not in positions:
            positions.append(number)
    return ",".join(str(n) for n in sorted(positions))


def add_step(template: DrTemplate, **fields) -> DrTemplateStep:
    """Append a step at the end of the template; the version goes up."""
    step = new_step(template, **fields)
    db.session.commit()
    return step


def new_step(template: DrTemplate, *, title: str, instructions: str = "", owner: str = "",
             expected_minutes: int = 0, phase: str | Phase, depends_on: str = "",
             counts_toward_recovery: bool = True, evidence_required: bool = False, critical: bool = False
             ) -> DrTemplateStep:
    """add_step without the commit (the demo writes a template's steps in one transaction)."""
    position = len(template.steps) + 1
    step = DrTemplateStep(position=position, title=title.strip(), instructions=instructions or "",
                          owner=(owner or "").strip(), expected_minutes=expected_minutes or 0, phase=Phase(phase),
                          depends_on=parse_dependencies(depends_on, position),
                          counts_toward_recovery=bool(counts_toward_recovery),
                          evidence_required=bool(evidence_required), critical=bool(critical))
    template.steps.append(step)
    template.version += 1
    return step


def get_step(template: DrTemplate, step_id: int) -> DrTemplateStep:
    step = db.session.get(DrTemplateStep, step_id)
    if step is None or step.template_id != template.id:
        raise NotFound("No such step in this template.")
    return step


def update_step(step: DrTemplateStep, **values) -> DrTemplateStep:
    """Change one step in place; the version goes up."""
    values["depends_on"] = parse_dependencies(values.get("depends_on"), step.position)
    values["phase"] = Phase(values["phase"])
    for name in STEP_FIELDS:
        if name in values:
            setattr(step, name, values[name].strip() if isinstance(values[name], str) and name != "instructions"
                    else values[name])
    step.template.version += 1
    db.session.commit()
    return step


def delete_step(step: DrTemplateStep) -> None:
    """Remove a step when no later step depends on it; later steps move up and their dependencies follow."""
    template = step.template
    gone = step.position
    dependants = [s.position for s in template.steps if gone in s.dependency_positions]
    if dependants:
        raise Conflict(f"Steps {', '.join(map(str, dependants))} depend on step {gone}; change them first.")
    template.steps.remove(step)
    db.session.flush()
    for later in sorted((s for s in template.steps if s.position > gone), key=lambda s: s.position):
        later.position -= 1
        db.session.flush()  # one at a time: the (template, position) unique key holds at every step
    for other in template.steps:
        other.depends_on = ",".join(str(n - 1 if n > gone else n) for n in other.dependency_positions)
    template.version += 1
    db.session.commit()


def move_step(step: DrTemplateStep, *, direction: str) -> DrTemplateStep:
    """Swap a step with the one above ("up") or below ("down"); dependencies follow the steps they name.

    A step never moves above a step it depends on: the order would then contradict the dependency."""
    if direction not in ("up", "down"):
        raise Invalid("Choose up or down.", field="direction")
    template = step.template
    other_position = step.position - 1 if direction == "up" else step.position + 1
    other = next((s for s in template.steps if s.position == other_position), None)
    if other is None:
        raise Conflict(f"Step {step.position} is already the {'first' if direction == 'up' else 'last'}.")
    upper, lower = (other, step) if direction == "up" else (step, other)
    if upper.position in lower.dependency_positions:
        raise Conflict(f"Step {lower.position} ({lower.title}) depends on step {upper.position} ({upper.title}); "
                       f"it cannot come before it.", field="direction")
    a, b = upper.position, lower.position
    upper.position = 0  # park it: the (template, position) unique key holds at every flush
    db.session.flush()
    lower.position = a
    db.session.flush()
    upper.position = b
    swap = {a: b, b: a}
    for each in template.steps:
        each.depends_on = ",".join(str(n) for n in sorted(swap.get(n, n) for n in each.dependency_positions))
    template.steps.sort(key=lambda s: s.position)
    template.version += 1
    db.session.commit()
    return step


def delete_template(template: DrTemplate) -> None:
    """Delete a template; exercises run from it keep their own copy of the steps."""
    db.session.delete(template)
    db.session.commit()


def exercises_of(template: DrTemplate) -> list[DrExercise]:
    return list(db.session.scalars(select(DrExercise).where(DrExercise.template_id == template.id)
                                   .order_by(DrExercise.fiscal_year, DrExercise.quarter, DrExercise.id)))


def template_fields(template: DrTemplate) -> dict:
    return {"name": template.name, "systems": template.systems, "description": template.description,
            "rto_minutes": template.rto_minutes, "rpo_minutes": template.rpo_minutes}


def step_fields(step) -> dict:
    return {name: getattr(step, name) for name in STEP_FIELDS}
