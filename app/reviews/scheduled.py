"""Scheduler jobs of the weekly review: build the week's review once its slot has passed, and send its messages."""
from __future__ import annotations

from app.reviews.agenda import build_due_review
from app.reviews.messages import send_review_messages

__all__ = ["build_due_review", "send_review_messages"]
