"""Small helpers shared by the HTML views of every domain."""
from __future__ import annotations

import base64
from collections.abc import Callable

from flask import flash, request
from flask_wtf import FlaskForm

from app.errors import DomainError, Invalid

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


def keyset_args(prefix: str = "") -> tuple[str | None, str | None, int]:
    """The ?after= and ?before= cursors and the bounded ?per_page= of a list paged by keyset (app/keyset.py); the
    second list of a page names its cursors with a prefix (?messages_after=)."""
    return (request.args.get(f"{prefix}after") or None, request.args.get(f"{prefix}before") or None,
            page_args()[1])


def kept_args(*names: str) -> dict[str, str]:
    """The query-string arguments among `names` that this request carries, for links that keep them."""
    return {name: request.args[name] for name in names if request.args.get(name)}


def csv_import_text(form: FlaskForm, decode: Callable[[bytes], str]) -> tuple[str, bool]:
    """The text of a CSV import page's file and whether this post applies it: the first post checks the
    uploaded file (a dry run), the second applies the same text, carried in the form's hidden `csv_text`."""
    applying = request.form.get("step") == "apply"
    if applying and form.csv_text.data:
        try:
            return base64.b64decode(form.csv_text.data.encode("ascii"), validate=True).decode("utf-8"), True
        except (ValueError, UnicodeError):
            raise Invalid("The checked file was damaged on the way; choose it again.", "file") from None
    if form.file.data:
        return decode(form.file.data.read()), applying
    raise Invalid("Choose a CSV file.", "file")


def carry_csv_text(form: FlaskForm, text: str) -> None:
    """Keep the checked text for the apply step. Base64 keeps the file byte for byte through a hidden field
    (browsers rewrite line breaks in text)."""
    form.csv_text.data = base64.b64encode(text.encode("utf-8")).decode("ascii")
