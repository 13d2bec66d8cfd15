"""Small helpers shared by the HTML views of every domain."""
from __future__ import annotations

from flask import flash, request
from flask_wtf import FlaskForm

from app.errors import DomainError

DEFAULT_PER_PAGE = 50


def apply_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Show a service's refusal next to the field it names, or as a flash message."""
    field = form._fields.get(error.field) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        flash(error.message, "error")


def page_args() -> tuple[int, int]:
    """The ?page= and ?per_page= of a list, bounded so a request cannot ask for everything."""
    page = request.args.get("page", 1, type=int) or 1
    per_page = request.args.get("per_page", DEFAULT_PER_PAGE, type=int) or DEFAULT_PER_PAGE
    return max(page, 1), min(max(per_page, 1), 200)
