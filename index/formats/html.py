"""HTML (and EPUB chapters) to text in one streaming pass: memory grows with the text, not the tags.

BeautifulSoup built a tree of Python objects: 10 MB of ``<p>a</p>`` took 1.4 GB and 30 s.
libxml2's HTML parser (lxml) here calls a small target that keeps only the text it will
return and a few counters: the same file takes ~50 MB and ~1.5 s (Python's html.parser, also
streaming, took 19 s).
"""

from __future__ import annotations

import re

from lxml import etree

from index.formats.base import LoadError, Parsed, TextBuilder, decode_text

# Elements whose content is never document text.
# A <nav> is a site's menu, the same on every page: not the document.
SKIP = frozenset({"script", "style", "noscript", "template", "head", "svg", "iframe", "nav"})
# Elements that start a new line: everything else (b, a, span, em...) flows inside a sentence.
BLOCK = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "br",
        "caption",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "html",
        "legend",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "tr",
        "ul",
        "option",
    ]
)
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_SPACE = re.compile(r"\s+")
# The prologue before a DOCTYPE: a BOM, an XML declaration, comments, white space.
_DOCTYPE = re.compile(r"\ufeff?\s*(?:<\?[^>]*\?>\s*)?(?:<!--.*?-->\s*)*<!DOCTYPE\b", re.I | re.S)
# The rest of a DOCTYPE with an internal subset: declarations, quoted values and comments
# (which may hold "]" or ">") up to "]>"; possessive, so a subset that never ends fails fast.
_SUBSET = re.compile(r"""[^\[>]*\[(?:[^\]"'<]++|"[^"]*+"|'[^']*+'|<!--.*?-->|<)*+\]\s*>""", re.S)


class _Target:
    """lxml parser target: start/end/data events in, lines of text out."""

    def __init__(self, out: TextBuilder):
        self.out = out
        self.skip = 0  # depth inside elements whose content is dropped
        self.pre = 0  # depth inside <pre>, where line breaks are kept
        self.buf: list[str] = []
        self.title: list[str] | None = None  # collecting <title> text
        self.page_title = ""
        self.heading = ""  # the first <h1>, a title when <title> is missing
        self.in_h1 = False
        self.h1: list[str] = []
        self.cells = 0  # cells seen in the current table row

    def start(self, tag, attrib):
        if tag == "title" and not self.page_title:
            self.title = []
        elif tag in SKIP:
            self.skip += 1
        elif tag == "body":
            self.skip = 0  # a body begins: an unclosed <head> has ended
        if tag in BLOCK:
            self.flush()
            self.cells = 0
        elif tag in ("td", "th"):
            if self.cells and not self.skip:
                self.buf.append(" | ")  # the cells of a row read as one line
            self.cells += 1
        if tag == "pre":
            self.pre += 1
        if tag == "h1" and not self.heading:
            self.in_h1, self.h1 = True, []

    def end(self, tag):
        if tag == "title" and self.title is not None:
            self.page_title = _SPACE.sub(" ", "".join(self.title)).strip()
            self.title = None
        elif tag in SKIP:
            self.skip = max(0, self.skip - 1)
        if tag in BLOCK:
            self.flush()
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        if tag == "h1" and self.in_h1:
            self.in_h1 = False
            self.heading = _SPACE.sub(" ", "".join(self.h1)).strip()

    def data(self, data):
        if self.title is not None:
            self.title.append(data)
            return
        if self.skip:
            return
        if self.in_h1:
            self.h1.append(data)
        self.buf.append(data)
        if len(self.buf) > 4096:  # a block with thousands of inline pieces: keep it compact
            self.buf = ["".join(self.buf)]

    def comment(self, text):
        pass

    def close(self):
        self.flush()

    def flush(self):
        if not self.buf:
            return
        raw = "".join(self.buf)
        self.buf = []
        if self.pre:
            for line in raw.splitlines():
                self.out.line(line.rstrip())
        else:
            self.out.line(_SPACE.sub(" ", raw).strip())


def without_subset(html: str) -> str:
    """The page without a DOCTYPE's internal subset (``<!DOCTYPE html [ <!ENTITY ...> ]>``).

    libxml2's HTML parser ends the DOCTYPE at the first ``>``: the rest of the subset (and its
    closing ``]>``) became text, and the first line of it the page's title. Nothing in a subset
    is shown (entities are never expanded), so the whole DOCTYPE goes.
    """
    head = _DOCTYPE.match(html[:65536])
    subset = head and _SUBSET.match(html, head.end())
    return html[: head.start()] + html[subset.end() :] if subset else html


def html_text(html: str) -> tuple[str, str]:
    """The visible text of an HTML page, one line per block, and its title ('' if none)."""
    html = without_subset(html)
    out = TextBuilder()
    target = _Target(out)
    parser = etree.HTMLParser(target=target, recover=True, no_network=True, huge_tree=True)
    step = 1 << 20  # fed in slices: a huge page never needs a second, encoded copy of itself
    for i in range(0, len(html), step):
        parser.feed(html[i : i + step])
    try:
        parser.close()
    except etree.XMLSyntaxError:  # nothing parseable at all (an empty or tag-less file)
        target.flush()
    return out.text(), target.page_title or target.heading


def read_html(data: bytes) -> Parsed:
    """An .html file."""
    text, title = html_text(decode_text(data))
    if not text.strip():
        raise LoadError("no text found")
    return Parsed(text, title)
