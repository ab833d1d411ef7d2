"""OCR for scanned PDF pages and images: RapidOCR, whose ONNX models ship inside its wheel.

An optional extra (``pip install 'qa-chat[ocr]'``); without it a scanned page or an image is
skipped with a reason naming the extra. Nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import re
import threading
import warnings

from index.formats import layout, words
from index.formats.base import OCR_EXTRA, OCR_PAGES, LoadError, Parsed, TextBuilder, with_detail

log = logging.getLogger(__name__)

DPI = 200  # scans rendered at this resolution: at 150 dpi the model starts to drop word spaces
MAX_SIDE = 2000  # pixels; RapidOCR shrinks larger images to this anyway
MAX_PIXELS = 50_000_000  # an image (or a decompression bomb) larger than this is not read
# Pixels decoded for OCR in one file, all its frames together (100 A4 pages at 300 dpi are
# 0.9 billion); measured on the frames' headers before any is decoded.
MAX_FILE_PIXELS = 2_000_000_000
MIN_SCORE = 0.5  # recognised lines below this confidence are noise
# The recogniser drops the spaces between words when a line is less than ~30 pixels high
# (9 pt type at 200 dpi read "TheeconomyofVictoria..."): such pages are read again, larger.
MIN_LINE_PX = 34
TARGET_LINE_PX = 44
MAX_UPSCALED_SIDE = 3600

_engine = None
_engine_lock = threading.Lock()


def available() -> bool:
    """Is the OCR extra installed?"""
    try:
        return importlib.util.find_spec("rapidocr_onnxruntime") is not None
    except (ImportError, ValueError):  # a module set to None in sys.modules, a broken install
        return False


def _get_engine():
    global _engine
    with _engine_lock:
        if _engine is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:
                raise LoadError(f"OCR is not installed: {OCR_EXTRA}") from exc
            # One thread: ingest runs beside the web app, and on a busy machine more threads
            # made each page slower, not faster.
            _engine = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)
        return _engine


def read_image(image, scale: float, page_height: float) -> list[layout.Line]:
    """Lines found in an image (H x W x 3, BGR), in page units: pixels / scale, y up."""
    engine = _get_engine()
    with _engine_lock:  # one ONNX session pair, used by one thread at a time
        result, _ = engine(image, use_cls=False)
    lines = []
    for box, text, score in result or []:
        # The recogniser drops some spaces between words in small type: put them back.
        text = words.respace(" ".join(str(text).split()))
        if not text or float(score) < MIN_SCORE:
            continue
        xs = [p[0] / scale for p in box]
        ys = [p[1] / scale for p in box]
        top, bottom = page_height - min(ys), page_height - max(ys)
        lines.append(layout.Line(min(xs), bottom, max(xs), top, text, top - bottom))
    return lines


def read_rendered(render, scale: float, page_height: float, side: float) -> list[layout.Line]:
    """OCR of a page rendered by ``render(scale)``; again at a larger scale if its type is small.

    ``side``: the page's longer side in page units, to keep the image within bounds.
    """
    lines = read_image(render(scale), scale, page_height)
    if not lines:
        return lines
    heights = sorted((ln.y1 - ln.y0) * scale for ln in lines)
    median = heights[len(heights) // 2]
    if median >= MIN_LINE_PX:
        return lines
    bigger = min(scale * TARGET_LINE_PX / max(median, 1.0), MAX_UPSCALED_SIDE / max(side, 1.0))
    if bigger <= scale * 1.15:
        return lines
    return read_image(render(bigger), bigger, page_height) or lines


def read_picture(data: bytes, ocr_pages: int = OCR_PAGES) -> Parsed:
    """A .png, .jpg or .tif file: its text by OCR; each frame of a multi-page TIFF (as office
    scanners save a document) is a page. The frames are counted and measured first: a file
    over the budget (``ocr_pages`` frames, MAX_PIXELS each, MAX_FILE_PIXELS in all) is refused
    before any is read."""
    if not available():
        raise LoadError(f"an image needs OCR to be read: {OCR_EXTRA}")
    from PIL import Image, UnidentifiedImageError

    # PIL warns on stderr of pictures over 89 megapixels; ours are refused over MAX_PIXELS.
    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
    pages = []
    try:
        with Image.open(io.BytesIO(data)) as img:
            for n in range(_frames(img, ocr_pages)):
                img.seek(n)
                pages.append(_read_frame(img))
    except Image.DecompressionBombError as exc:  # PIL's own limit, past ours: the size it saw
        raise LoadError(_too_large(_pixels_in(str(exc)))) from exc
    except (UnidentifiedImageError, OSError, ValueError, EOFError) as exc:
        raise LoadError(with_detail("corrupt or unsupported image", exc)) from exc
    out = TextBuilder()
    layout.assemble(pages, out)
    if not out.size:
        raise LoadError("no text found in the image")
    starts = out.page_starts() if len(pages) > 1 else ()
    return Parsed(out.text(), pages=starts, title_from_text=False)  # a picture names no title


def _frames(img, ocr_pages: int) -> int:
    """How many frames the picture has, once each is known to be within the budget (from the
    frames' headers: nothing is decoded). LoadError for a picture over it."""
    n, total = 0, 0
    while True:
        try:
            img.seek(n)
        except EOFError:
            break
        if n >= ocr_pages:
            raise LoadError(
                f"more than {ocr_pages:,} pages to read by OCR in one image file "
                "(QA_OCR_MAX_PAGES sets the limit)"
            )
        pixels = img.width * img.height
        if pixels > MAX_PIXELS:
            raise LoadError(_too_large(pixels, img.width, img.height))
        total += pixels
        if total > MAX_FILE_PIXELS:
            raise LoadError(
                f"too many pixels to read by OCR: its first {n + 1:,} pages hold more than "
                f"{MAX_FILE_PIXELS // 1_000_000:,} megapixels"
            )
        n += 1
    return n


def _pixels_in(message: str) -> int:
    """The pixel count in PIL's decompression bomb message ("Image size (N pixels) ...")."""
    found = re.search(r"\((\d+) pixels\)", message)
    return int(found.group(1)) if found else MAX_PIXELS + 1


def _too_large(pixels: int, width: int = 0, height: int = 0) -> str:
    size = f"{width:,} x {height:,} pixels, " if width and height else ""
    return (
        f"image too large ({size}{pixels / 1e6:,.0f} megapixels; images over "
        f"{MAX_PIXELS // 1_000_000} megapixels are not read)"
    )


def _read_frame(img) -> layout.Page:
    """One picture (or one frame of a TIFF) read by OCR, as a page of lines."""
    import numpy as np

    if img.width * img.height > MAX_PIXELS:
        raise LoadError(_too_large(img.width * img.height, img.width, img.height))
    img.draft("RGB", (MAX_SIDE, MAX_SIDE))  # JPEGs decode at a reduced size directly
    img = img.convert("RGB")
    scale = min(1.0, MAX_SIDE / max(img.width, img.height))
    if scale < 1.0:
        img = img.resize((round(img.width * scale), round(img.height * scale)))
    pixels = np.asarray(img)[:, :, ::-1].copy()  # RGB -> BGR, as OpenCV models expect
    height, width = pixels.shape[:2]

    def render(scale: float):
        if scale == 1.0:
            return pixels
        import cv2

        return cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)

    # In the picture's own pixels: a line of small type is read again from an enlarged copy.
    lines = read_rendered(render, 1.0, float(height), float(max(width, height)))
    return layout.Page(float(width), float(height), tuple(lines))
