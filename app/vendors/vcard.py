"""vCard 3.0 (RFC 2426) for a vendor's escalation contacts, so a phone can keep them in its address book.

Text values are escaped (backslash, comma, semicolon, newline) and lines are folded at 75 octets without
splitting a UTF-8 character; lines end in CRLF as the RFC requires.
"""
from __future__ import annotations

import re

from app.vendors.models import Vendor, VendorContact

FOLD_AT = 75
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def escape(value: str) -> str:
    """Escape a text value: \\ , ; and newlines (CR dropped, LF as \\n)."""
    return (value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
            .replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n"))


def fold(line: str) -> str:
    """Split a content line into chunks of at most 75 octets; each continuation starts with one space."""
    encoded = line.encode("utf-8")
    if len(encoded) <= FOLD_AT:
        return line
    chunks, current, size = [], [], 0
    limit = FOLD_AT
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            chunks.append("".join(current))
            current, size, limit = [], 0, FOLD_AT - 1  # the leading space of a continuation counts
        current.append(char)
        size += width
    chunks.append("".join(current))
    return "\r\n ".join(chunks)


def _name_parts(name: str) -> tuple[str, str]:
    """(family, given) from a display name: the last word is taken as the family name."""
    words = name.split()
    if len(words) < 2:
        return name, ""
    return words[-1], " ".join(words[:-1])


def contact_card(contact: VendorContact, vendor: Vendor) -> list[str]:
    family, given = _name_parts(contact.name)
    level = contact.level
    lines = ["BEGIN:VCARD", "VERSION:3.0",
             f"N:{escape(family)};{escape(given)};;;",
             f"FN:{escape(contact.name)}",
             f"ORG:{escape(vendor.name)};{escape(level.title)}"]
    if contact.role:
        lines.append(f"TITLE:{escape(contact.role)}")
    if contact.phone:
        lines.append(f"TEL;TYPE=WORK,VOICE:{contact.phone}")
    if contact.mobile:
        lines.append(f"TEL;TYPE=CELL,VOICE:{contact.mobile}")
    if contact.email:
        lines.append(f"EMAIL;TYPE=INTERNET:{escape(contact.email)}")
    note = [f"{vendor.name} escalation {level.title}", f"{contact.kind.value} contact"]
    if level.when_to_use:
        note.append(f"when: {level.when_to_use}")
    if contact.hours:
        note.append(f"hours: {contact.hours} ({contact.time_zone})")
    if contact.notes:
        note.append(contact.notes)
    lines += [f"NOTE:{escape('. '.join(note))}",
              # CATEGORIES is itself a comma-separated list, so each category is escaped on its own.
              f"CATEGORIES:{escape(vendor.name)},Quarterdeck",
              f"UID:quarterdeck-vendor-contact-{contact.id}",
              "END:VCARD"]
    return lines


def vendor_vcards(vendor: Vendor) -> str:
    """Every contact of the vendor's ladder as one .vcf text, level 1 first."""
    lines: list[str] = []
    for contact in vendor.contacts:
        lines.extend(contact_card(contact, vendor))
    return "".join(fold(line) + "\r\n" for line in lines)


def vcard_filename(vendor: Vendor) -> str:
    stem = _UNSAFE_FILENAME.sub("-", vendor.name).strip("-").lower() or f"vendor-{vendor.id}"
    return f"{stem}-contacts.vcf"
