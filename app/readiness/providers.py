"""Tracks and executive-page sections that other domains register, so readiness never imports them.

A domain that sits above readiness (incidents write lessons learned into it) cannot be imported by readiness
without a cycle; it registers its track's assessor and its executive-page section from create_app instead.
An app without them simply has no such track or section.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app, has_app_context
from markupsafe import Markup

from app.readiness.tracks.base import Context, TrackResult

TRACKS_KEY = "quarterdeck.readiness_tracks"
SECTIONS_KEY = "quarterdeck.readiness_sections"

Assessor = Callable[[Context], TrackResult]
Section = Callable[[object], Markup | str]  # (the Readiness being shown) -> HTML for the executive page


def register_track(app: Flask, track: str, assess: Assessor) -> None:
    """Score `track` (a value of readiness.models.Track) with `assess`; registering it again replaces it."""
    app.extensions.setdefault(TRACKS_KEY, {})[track] = assess


def register_section(app: Flask, render: Section) -> None:
    """Show `render(readiness)` at the top of the executive page, above the score, in registration order."""
    sections = app.extensions.setdefault(SECTIONS_KEY, [])
    if render not in sections:
        sections.append(render)


def registered_tracks() -> dict[str, Assessor]:
    return dict(current_app.extensions.get(TRACKS_KEY, {})) if has_app_context() else {}


def sections_for(readiness) -> list[Markup]:
    """The registered sections' HTML for this page, in registration order."""
    if not has_app_context():
        return []
    return [Markup(render(readiness)) for render in current_app.extensions.get(SECTIONS_KEY, [])]
