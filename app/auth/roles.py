"""The four roles and the groups of them that endpoints declare."""
from __future__ import annotations

import enum


class Role(enum.StrEnum):
    ADMIN = "admin"
    CRISIS_TEAM = "crisis_team"
    RESPONDER = "responder"
    EXECUTIVE = "executive"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.ADMIN: "Administrator",
    Role.CRISIS_TEAM: "Crisis team",
    Role.RESPONDER: "Responder (on-call)",
    Role.EXECUTIVE: "Executive (read-only)",
}

EVERYONE = frozenset(Role)
EDITORS = frozenset({Role.ADMIN, Role.CRISIS_TEAM})
ADMINS = frozenset({Role.ADMIN})
EXECUTIVES = frozenset({Role.EXECUTIVE})
