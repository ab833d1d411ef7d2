"""Real sample files of every supported type, good and broken, written on demand."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path


def write_pdf(path: Path, text: str, password: str | None = None) -> Path:
    """A real PDF made with fpdf2, optionally encrypted with pypdf."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, text)
    data = bytes(pdf.output())
    if password:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter()
        writer.append(PdfReader(io.BytesIO(data)))
        writer.encrypt(password)
        buf = io.BytesIO()
        writer.write(buf)
        data = buf.getvalue()
    path.write_bytes(data)
    return path


def write_docx(path: Path, paragraphs: list[str]) -> Path:
    """A real .docx made with python-docx."""
    import docx

    doc = docx.Document()
    for p in paragraphs:
        doc.add_paragraph(p)
    doc.save(str(path))
    return path


def write_zip_bomb_docx(path: Path, expanded: int = 300_000_000) -> Path:
    """A .docx whose single member expands to ``expanded`` bytes of zeros."""
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf,
        zf.open("word/document.xml", "w", force_zip64=True) as member,
    ):
        block = b"\0" * (1 << 20)
        for _ in range(expanded >> 20):
            member.write(block)
    return path


def make_corpus(folder: Path) -> dict[str, str]:
    """Good and broken files of every type; returns {file name: expected outcome}."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.txt").write_text(
        "The lighthouse keeper is Marta Ilves.\nShe lights the lamp at dusk every day.\n"
    )
    (folder / "guide.md").write_text("# Garden guide\n\nTomatoes need six hours of sun a day.\n")
    (folder / "page.html").write_text(
        "<html><head><title>Harbour</title><script>alert('x')</script></head>"
        "<body><h1>Harbour</h1><p>The ferry leaves at 7:15 from pier four.</p></body></html>"
    )
    write_pdf(folder / "report.pdf", "The annual rainfall in Tarvos was 812 millimetres.")
    write_docx(folder / "memo.docx", ["Memo", "The budget meeting moved to Thursday."])
    (folder / "latin1.txt").write_bytes("Café owner Zoë opened at nine.".encode("cp1252"))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_text("   \n\n  ")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.4\n this is not really a pdf \x00\x01")
    write_pdf(folder / "locked.pdf", "Secret text.", password="hunter2")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not a zip")
    (folder / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    return {
        "notes.txt": "indexed",
        "guide.md": "indexed",
        "page.html": "indexed",
        "report.pdf": "indexed",
        "memo.docx": "indexed",
        "latin1.txt": "indexed",
        "empty.txt": "empty file",
        "blank.md": "no text",
        "binary.txt": "binary",
        "corrupt.pdf": "PDF",
        "locked.pdf": "encrypted",
        "broken.docx": "DOCX",
        "image.png": "unsupported",
    }
