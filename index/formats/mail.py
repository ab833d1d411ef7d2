"""E-mail saved as a file (.eml): who wrote to whom and when, the subject, then the message.

The headers come first as lines ("From: ...", "Date: ..."), so that a passage of the message
is found by who sent it and when; then the text of the message: its plain-text part, else its
HTML part read as a web page is; attachments are named, not read (save them beside the e-mail
to have them indexed). The subject is the title.

Memory grows with the file, not with its lines: Python's e-mail parser keeps every line of a
part as a string of its own (45 MB of short lines took 1.6 GB). Here only header blocks go
through it; a multipart body is cut at its boundary lines as bytes, and a part's body becomes
its payload whole, as the parser would leave it.
"""

from __future__ import annotations

import email.parser
import email.policy
import re
from email.message import EmailMessage

from index.formats.base import LoadError, Parsed, TextBuilder
from index.formats.wrap import unwrap
from index.text.controls import printable

HEADERS = ("From", "To", "Cc", "Date", "Subject")
MAX_DEPTH = 20  # multiparts inside multiparts
_HEADERS_END = re.compile(rb"\r?\n\r?\n")
_LINES = 1 << 20  # characters of the message's text cleaned at a time


def parse_message(data: bytes, depth: int = 0) -> EmailMessage:
    """The message: headers parsed by the standard library, bodies kept whole (see above)."""
    end = _HEADERS_END.search(data)
    head, body = (data[: end.end()], data[end.end() :]) if end else (data, b"")
    parser = email.parser.BytesParser(policy=email.policy.default)
    msg = parser.parsebytes(head, headersonly=True)
    boundary = msg.get_boundary() if msg.get_content_maintype() == "multipart" else None
    if boundary and depth < MAX_DEPTH:
        parts = _split(body, boundary.encode("utf-8", "surrogateescape"))
        if parts is not None:
            msg.set_payload([parse_message(part, depth + 1) for part in parts])
            return msg
    msg.set_payload(body.decode("ascii", "surrogateescape"))  # as the parser stores a body
    return msg


def _split(body: bytes, boundary: bytes) -> list[bytes] | None:
    """The parts between a multipart body's boundary lines (RFC 2046), or None when it has
    none; the preamble and the epilogue are not parts."""
    marks = list(re.finditer(rb"(?:^|\n)--" + re.escape(boundary) + rb"(--)?[ \t]*(?:\r?\n|$)", body))  # fmt: skip
    if not marks:
        return None
    parts = []
    for mark, following in zip(marks, [*marks[1:], None], strict=True):
        if mark.group(1):  # the closing boundary: the rest is the epilogue
            break
        stop = following.start() if following else len(body)
        part = body[mark.end() : stop]
        parts.append(part[:-1] if part.endswith(b"\r") else part)
    return parts


def read_eml(data: bytes) -> Parsed:
    """An .eml file: its headers as lines, its message text, the names of its attachments."""
    try:
        msg = parse_message(data)
    except Exception as exc:  # the parser is lenient; this is a last resort
        raise LoadError("corrupt e-mail (its headers and parts cannot be parsed)") from exc
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
    return unwrap(_clean_lines(content).strip())


def _clean_lines(text: str) -> str:
    """Each line without control characters or trailing spaces; a slice of lines at a time, so
    a message of millions of short lines never becomes millions of strings at once."""
    text = text.replace("\r\n", "\n")
    out, start = [], 0
    while start < len(text):
        stop = text.find("\n", start + _LINES)
        stop = len(text) if stop < 0 else stop
        out.append("\n".join(printable(ln).rstrip() for ln in text[start:stop].split("\n")))
        start = stop + 1
        if start == len(text):  # the text ends with a line break: an empty last line
            out.append("")
    return "\n".join(out)
