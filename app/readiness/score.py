"""One explainable readiness score: every track's score, their weighted mean, a colour and the hard gates.

Rules (the README's "Quarter-close readiness" section says the same in words):
- a track scores 100 minus the points its findings cost, never below 0; a track whose domain has no data is
  "not tracked yet" and is left out of the overall score (the other weights are scaled up);
- colour by score: green from GREEN_AT, amber from AMBER_AT, red below;
- hard gates cap the overall colour whatever the score: no passed DR test this quarter caps it at amber,
  a critical risk without an active mitigation at BD-5 or later makes it red, and any red track caps it at amber.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app, has_request_context

from app.calendar.services import close_region
from app.readiness.models import TRACK_LABELS, Track
from app.readiness.providers import registered_tracks
from app.readiness.tracks import drtest, jobs, people, risks, runbooks, vendors
from app.readiness.tracks.base import Context, Gate, TrackResult
from app.readiness.tracks.checklist import assess_checklist, assess_lessons
from app.timeutil import FiscalQuarter, utcnow

GREEN_AT = 85
AMBER_AT = 60
GATE_BD = -5
DEFAULT_WEIGHTS = {"risks": 25, "jobs": 15, "vendors": 15, "drtest": 15, "people": 10, "checklist": 15, "lessons": 5,
                   "runbooks": 10, "incidents": 10}
COLOUR_RANK = {"green": 0, "amber": 1, "red": 2}

ASSESSORS: dict[str, Callable[[Context], TrackResult]] = {
    Track.RISKS.value: risks.assess, Track.JOBS.value: jobs.assess, Track.VENDORS.value: vendors.assess,
    Track.DRTEST.value: drtest.assess, Track.PEOPLE.value: people.assess,
    Track.CHECKLIST.value: assess_checklist, Track.LESSONS.value: assess_lessons, Track.RUNBOOKS.value: runbooks.assess,
}


def colour_for(score: int | None) -> str:
    if score is None:
        return "grey"
    return "green" if score >= GREEN_AT else "amber" if score >= AMBER_AT else "red"


def weights() -> dict[str, int]:
    """Track weights: READINESS_WEIGHTS from the configuration over the defaults."""
    configured = current_app.config.get("READINESS_WEIGHTS") or {}
    return {track: int(configured.get(track, weight)) for track, weight in DEFAULT_WEIGHTS.items()}


@dataclass(frozen=True)
class Frozen:
    """When a closed quarter's readiness was frozen: as at the end of BD0 in the close region, stored at taken_at."""

    as_of: datetime
    taken_at: datetime


@dataclass
class Readiness:
    quarter: FiscalQuarter
    context: Context
    tracks: list[TrackResult]
    score: int | None
    colour: str
    score_colour: str  # the colour the score alone would give, before the gates
    gates: list[Gate] = field(default_factory=list)
    frozen: Frozen | None = None  # set when this is a closed quarter as frozen at the end of its BD0

    def track(self, name: str) -> TrackResult:
        return next(result for result in self.tracks if result.track == name)

    @property
    def top_reasons(self):
        """The costliest reasons across the tracks, red ones first."""
        pairs = [(result, reason) for result in self.tracks for reason in result.reasons]
        return sorted(pairs, key=lambda pair: (-pair[1].severe, -pair[1].points))[:5]


def context_for(quarter: FiscalQuarter | None = None, *, at: datetime | None = None,
                today: date | None = None) -> Context:
    """The moment a quarter is judged at (default now) and its dates, all read in the close region: today, the
    current quarter, BD0 and BD-5. `today` overrides the date (a frozen quarter is judged as on its BD0)."""
    region = close_region()
    now = at or utcnow()
    today = today or region.today(now)
    quarter = quarter or region.quarter_at(now)
    return Context(quarter=quarter, today=today, now=now, close_day=region.close_day(quarter),
                   gate_day=region.business_day(quarter, GATE_BD), is_current=quarter == region.quarter_at(now))


def combine(results: list[TrackResult], weight_of: dict[str, int]) -> tuple[int | None, str, str, list[Gate]]:
    """The weighted mean of the tracked tracks, its colour, and the colour after the gates."""
    for result in results:
        result.colour = colour_for(result.score)
    tracked = [result for result in results if result.score is not None and weight_of.get(result.track, 0) > 0]
    total = sum(weight_of[result.track] for result in tracked)
    score = round(sum(result.score * weight_of[result.track] for result in tracked) / total) if total else None
    gates = [gate for result in results for gate in result.gates]
    gates += [Gate("amber", f"{TRACK_LABELS[Track(result.track)]} is red", f"#track-{result.track}")
              for result in results if result.colour == "red"]
    score_colour = colour_for(score)
    colour = score_colour if score is not None else "amber"  # nothing tracked is not a green quarter
    for gate in gates:
        if COLOUR_RANK[gate.cap] > COLOUR_RANK.get(colour, 0):
            colour = gate.cap
    return score, colour, score_colour, gates


@contextmanager
def _links_available():
    """Reasons carry links to records: outside a request (scheduler, seed) build them against PUBLIC_BASE_URL."""
    if has_request_context():
        yield
        return
    with current_app.test_request_context("/", base_url=current_app.config.get("PUBLIC_BASE_URL") or None):
        yield


def compute_readiness(*, quarter: FiscalQuarter | None = None, at: datetime | None = None,
                      today: date | None = None) -> Readiness:
    """Readiness of `quarter` (default: the current one) from live data, judged at `at` (default now); reads only,
    never writes. Pages call snapshots.readiness_of(), which shows a closed quarter as it was frozen."""
    ctx = context_for(quarter, at=at, today=today)
    with _links_available():
        # Tracks other domains register (incidents) come after the built-in ones.
        results = [assess(ctx) for assess in {**ASSESSORS, **registered_tracks()}.values()]
    score, colour, score_colour, gates = combine(results, weights())
    return Readiness(ctx.quarter, ctx, results, score, colour, score_colour, gates)
