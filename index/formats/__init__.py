"""One reader per file format, each turning a file's bytes into a Parsed record (or LoadError)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from index.formats.base import OCR_PAGES, Parsed

# extension -> (module, function); modules load on first use, so a folder of .txt files never
# imports PDFium, OpenCV or openpyxl.
READERS: dict[str, tuple[str, str]] = {
    ".txt": ("text", "read_text"),
    ".md": ("text", "read_markdown"),
    ".markdown": ("text", "read_markdown"),
    ".html": ("html", "read_html"),
    ".htm": ("html", "read_html"),
    ".xhtml": ("html", "read_html"),
    ".pdf": ("pdf", "read_pdf"),
    ".docx": ("office", "read_docx"),
    ".odt": ("opendoc", "read_odt"),
    ".rtf": ("rtf", "read_rtf"),
    ".eml": ("mail", "read_eml"),
    ".pptx": ("slides", "read_pptx"),
    ".xlsx": ("sheets", "read_xlsx"),
    ".csv": ("sheets", "read_csv"),
    ".tsv": ("sheets", "read_csv"),
    ".epub": ("epub", "read_epub"),
    ".png": ("ocr", "read_picture"),
    ".jpg": ("ocr", "read_picture"),
    ".jpeg": ("ocr", "read_picture"),
    ".tif": ("ocr", "read_picture"),
    ".tiff": ("ocr", "read_picture"),
}


# Formats a person has that are not read, and what to save them as instead.
CONVERT: dict[str, str] = {
    ".doc": "an old Word file: save it as .docx",
    ".dot": "an old Word template: save it as .docx",
    ".xls": "an old Excel file: save it as .xlsx or .csv",
    ".ppt": "an old PowerPoint file: save it as .pptx",
    ".odp": "an OpenDocument presentation: save it as .pptx or .pdf",
    ".ods": "an OpenDocument spreadsheet: save it as .xlsx or .csv",
    ".pages": "a Pages document: export it as .docx or .pdf",
    ".numbers": "a Numbers spreadsheet: export it as .xlsx or .csv",
    ".key": "a Keynote presentation: export it as .pptx or .pdf",
    ".msg": "an Outlook message: save it as .eml or .pdf",
    ".mht": "a saved web archive: save the page as .html or .pdf",
    ".mhtml": "a saved web archive: save the page as .html or .pdf",
    ".heic": "a picture: save it as .jpg",
    ".webp": "a picture: save it as .png or .jpg",
}


def reader(ext: str) -> Callable[[bytes], Parsed]:
    """The function that reads files with this extension (lower case, with the dot)."""
    module, name = READERS[ext]
    return getattr(importlib.import_module(f"index.formats.{module}"), name)


# Modules whose readers may read pages by OCR: they take the OCR page budget.
OCR_READERS = frozenset({"pdf", "ocr"})


def read(ext: str, data: bytes, ocr_pages: int = OCR_PAGES) -> Parsed:
    """A file's bytes read by the reader of its extension; at most ``ocr_pages`` pages by OCR."""
    module, _ = READERS[ext]
    if module in OCR_READERS:
        return reader(ext)(data, ocr_pages=ocr_pages)
    return reader(ext)(data)
