"""What the DR test pages read that is not one exercise's or template's own rule: the pages of exercises and
findings, and the quarters flagged for having no exercise scheduled by BD-30. The rules live beside this module (templates,
exercises, execution, findings, continuity); the views call them, or these, and never the database."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.drtests import exercises, findings
from app.drtests.models import DrExercise, Finding, QuarterFlag
from app.extensions import db
from app.keyset import KeysetPage, keyset_page

RECENT_FLAGS = 8


def exercises_page(*, after: str | None = None, before: str | None = None, per_page: int = 50) -> KeysetPage:
    """One page of exercises, the latest scheduled first, with their owners, after or before a cursor."""
    return keyset_page(select(DrExercise).options(selectinload(DrExercise.owner)), exercises.EXERCISE_ORDER,
                       after=after, before=before, per_page=per_page)


def findings_page(status: str | None, *, after: str | None = None, before: str | None = None,
                  per_page: int = 50) -> KeysetPage:
    """One page of findings, of one status or all, with their exercises and owners, after or before a cursor."""
    query = findings.findings_matching(status=status).options(selectinload(Finding.exercise),
                                                              selectinload(Finding.owner))
    return keyset_page(query, findings.FINDING_ORDER, after=after, before=before, per_page=per_page)


def recent_quarter_flags(limit: int = RECENT_FLAGS) -> list[QuarterFlag]:
    """The latest quarters that had no exercise scheduled by BD-30, the newest first."""
    return list(db.session.scalars(select(QuarterFlag).order_by(QuarterFlag.fiscal_year.desc(),
                                                               QuarterFlag.quarter.desc()).limit(limit)))
