"""A citation's page narrowed to its sentences': "slide 2", not the passage's "slides 1–3".

A passage runs over several pages (slides) when they are short; the index keeps its first and
last page only. For formats that are quick to read again (a .pptx) the page starts come from
the indexed file itself, and a citation whose supporting sentences all lie on fewer pages than
its passage is given those. The file must be the version indexed (its text matches the
passage), else the citation is left as it was.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace

from index.formats import reader
from qa.types import Citation

log = logging.getLogger(__name__)

REREAD = (".pptx",)  # formats whose page starts are read again from the file (fast)
CACHE = 32  # files whose page starts are kept

_cache: OrderedDict[str, tuple[str, tuple[int, ...]]] = OrderedDict()
_lock = threading.Lock()


def _page_starts(data: bytes, suffix: str) -> tuple[str, tuple[int, ...]]:
    key = hashlib.sha256(data).hexdigest()
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    parsed = reader(suffix)(data)
    got = (parsed.text, tuple(parsed.pages))
    with _lock:
        _cache[key] = got
        while len(_cache) > CACHE:
            _cache.popitem(last=False)
    return got


def pin_pages(
    citations: Sequence[Citation], original: Callable[[str], bytes | None]
) -> tuple[Citation, ...]:
    """The citations, each whose sentences lie on fewer pages than its passage narrowed to them.

    ``original(source)``: the bytes of the indexed file (``Engine.original``), or None.
    """
    out = []
    for c in citations:
        suffix = c.source[c.source.rfind(".") :].lower() if "." in c.source else ""
        if (
            suffix not in REREAD
            or not c.sentences
            or c.page is None
            or c.page_end in (None, c.page)
        ):
            out.append(c)
            continue
        try:
            data = original(c.source)
            text, starts = _page_starts(data, suffix) if data else ("", ())
        except Exception:  # the citation keeps the passage's pages
            log.debug("could not read the pages of %s again", c.source, exc_info=True)
            text, starts = "", ()
        if not starts or text[c.start : c.end] != c.text:
            out.append(c)
            continue
        first = bisect.bisect_right(starts, min(s.start for s in c.sentences))
        last = bisect.bisect_right(starts, max(s.end for s in c.sentences) - 1)
        first, last = max(first, c.page), min(max(last, first), c.page_end)
        out.append(replace(c, passage=replace(c.passage, page=first, page_end=last)))
    return tuple(out)
