"""What the DR test pages read that is not one exercise's or template's own rule: the pages of exercises and
findings, and the quarters flagged for having no exercise scheduled by BD-30. The rules live beside this module (templates,
exercises, execution, findings, continuity); the views call them, or these, and never the database."""
from __future__ import annotations

from sqlalchemy import select

from app.drtests import exercises, findings
from app.drtests.models import QuarterFlag
from app.extensions import db

RECENT_FLAGS = 8


def exercises_page(page: int, per_page: int):
    """One page of exercises, the next due first (as exercises_query orders them)."""
    return db.paginate(exercises.exercises_query(), page=page, per_page=per_page, error_out=False)


def findings_page(status: str | None, page: int, per_page: int):
    """One page of findings, of one status or all."""
    return db.paginate(findings.findings_query(status=status), page=page, per_page=per_page, error_out=False)


def recent_quarter_flags(limit: int = RECENT_FLAGS) -> list[QuarterFlag]:
    """The latest quarters that had no exercise scheduled by BD-30, the newest first."""
    return list(db.session.scalars(select(QuarterFlag).order_by(QuarterFlag.fiscal_year.desc(),
                                                               QuarterFlag.quarter.desc()).limit(limit)))
