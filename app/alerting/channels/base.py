"""What every channel shares: the message it is handed and the one error it raises."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Message:
    to: str  # E.164 phone number or email address
    body: str
    kind: str  # sms | voice | email
    subject: str = ""
    message_id: int | None = None  # our outbound_messages id, echoed back by delivery reports
    sensitive: bool = False  # holds a secret (a verification code): never written to a log


class ChannelError(Exception):
    """A send failed. `permanent` means retrying cannot help (invalid number, opted out). `uncertain` means
    the provider may have taken the message before the failure (it stopped answering after the request went
    out): the engine then waits for a delivery report or the claim's lease before sending again."""

    def __init__(self, message: str, *, permanent: bool = False, uncertain: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.uncertain = uncertain and not permanent
