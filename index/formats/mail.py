"""E-mail saved as a file (.eml): who wrote to whom and when, the subject, then the message.

The headers come first as lines ("From: ...", "Date: ..."), so that a passage of the message
is found by who sent it and when; then the text of the message: its plain-text part, else its
HTML part read as a web page is; attachments are named, not read (save them beside the e-mail
to have them indexed). The subject is the title.
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from index.formats.base import LoadError, Parsed, TextBuilder
from index.text.controls import printable

HEADERS = ("From", "To", "Cc", "Date", "Subject")


def read_eml(data: bytes) -> Parsed:
    """An .eml file: its headers as lines, its message text, the names of its attachments."""
    try:
        msg = email.message_from_bytes(data, policy=email.policy.default)
    except Exception as exc:  # the parser is lenient; this is a last resort
        raise LoadError(f"corrupt e-mail ({type(exc).__name__})") from exc
    if not isinstance(msg, EmailMessage) or not any(msg.get(h) for h in HEADERS):
        raise LoadError("not an e-mail (no From, To, Date or Subject header)")
    out = TextBuilder()
    for name in HEADERS:
        value = _header(msg, name)
        if value:
            out.line(f"{name}: {value}")
    body = _body(msg)
    if body:
        out.line(body, sep="\n\n")
    attached = [p.get_filename() for p in msg.iter_attachments() if p.get_filename()]
    if attached:
        out.line("Attachments: " + ", ".join(attached), sep="\n\n")
    return Parsed(out.text(), _header(msg, "Subject")[:200])


def _header(msg: EmailMessage, name: str) -> str:
    try:
        return " ".join(printable(str(msg.get(name, ""))).split())
    except Exception:  # a header that does not decode is left out, not the whole e-mail
        return ""


def _body(msg: EmailMessage) -> str:
    """The message's text: the plain-text part, else the HTML part as text."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):  # an unknown charset, a broken encoding
        payload = part.get_payload(decode=True) or b""
        content = payload.decode("utf-8", errors="replace")
    if part.get_content_subtype() == "html":
        from index.formats.html import read_html

        return read_html(content.encode("utf-8")).text
    lines = [printable(line).rstrip() for line in content.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip()
