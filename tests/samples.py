"""Real sample files of every supported type, good and broken, written on demand."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

# A one-page manual the browser tests ask about (a PDF in their documents folder).
ESPRESSO = (
    "Lumen Barista Pro manual.\n\nThe Lumen Barista Pro espresso machine must be descaled every "
    "6 weeks with Lumen descaling powder. Fill the tank with fresh water before each use.\n\n"
    "The warranty on the Barista Pro lasts three years, but it is void if the machine was "
    "descaled with vinegar. Keep the receipt as proof of purchase."
)


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


def write_form_pdf(path: Path, title: str, fields: list[tuple[str, str]]) -> Path:
    """A PDF form (fpdf2 labels, AcroForm text fields added with pypdf), filled in by pypdf,
    which draws each answer's appearance as a form-filling program does."""
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        FloatObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.text(20, 30, title)
    for k, (label, _) in enumerate(fields):
        pdf.text(20, 50 + 20 * k, label)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(bytes(pdf.output()))))
    page = writer.pages[0]
    height = float(page.mediabox.height)
    refs = ArrayObject()
    for k in range(len(fields)):
        y = height - (50 + 20 * k) * 72 / 25.4
        widget = DictionaryObject({
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Widget"),
            NameObject("/FT"): NameObject("/Tx"),
            NameObject("/T"): TextStringObject(f"field{k}"),
            NameObject("/Rect"): ArrayObject(
                [FloatObject(250), FloatObject(y - 4), FloatObject(500), FloatObject(y + 14)]
            ),
            NameObject("/DA"): TextStringObject("/Helv 12 Tf 0 g"),
            NameObject("/F"): NumberObject(4),  # printed
            NameObject("/P"): page.indirect_reference,
        })  # fmt: skip
        ref = writer._add_object(widget)
        page.setdefault(NameObject("/Annots"), ArrayObject()).append(ref)
        refs.append(ref)
    helvetica = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    })  # fmt: skip
    fonts = DictionaryObject({NameObject("/Helv"): writer._add_object(helvetica)})
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject({
        NameObject("/Fields"): refs,
        NameObject("/DR"): DictionaryObject({NameObject("/Font"): fonts}),
        NameObject("/DA"): TextStringObject("/Helv 12 Tf 0 g"),
    })  # fmt: skip
    values = {f"field{k}": value for k, (_, value) in enumerate(fields)}
    writer.update_page_form_field_values(page, values, auto_regenerate=False)
    buf = io.BytesIO()
    writer.write(buf)
    path.write_bytes(buf.getvalue())
    return path


def write_unmapped_pdf(path: Path, text: str) -> Path:
    """A PDF that looks right but whose text layer maps to no characters: its embedded font's
    character map (/ToUnicode) removed, as some old generators leave their fonts."""
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject
    from render_docs import font_path

    pdf = FPDF()
    pdf.add_font("DejaVu", "", font_path())
    pdf.add_page()
    pdf.set_font("DejaVu", size=14)
    pdf.multi_cell(0, 9, text)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(bytes(pdf.output()))))
    for page in writer.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            if "/ToUnicode" in font:
                del font[NameObject("/ToUnicode")]
    buf = io.BytesIO()
    writer.write(buf)
    path.write_bytes(buf.getvalue())
    return path


def write_docx(path: Path, paragraphs: list[str]) -> Path:
    """A real .docx made with python-docx."""
    import docx

    doc = docx.Document()
    for p in paragraphs:
        doc.add_paragraph(p)
    doc.save(str(path))
    return path


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def write_docx_with_notes(
    path: Path, paragraphs: list[list[str | tuple[str, int]]], notes: dict[str, dict[int, str]]
) -> Path:
    """A .docx with footnotes and endnotes as Word writes them: a paragraph is a list of texts
    and (kind, id) references ("footnote" or "endnote"); ``notes[kind][id]`` is a note's text.
    python-docx writes the text; the note parts, relationships and references are added."""
    import docx

    doc = docx.Document()
    for parts in paragraphs:
        p = doc.add_paragraph()
        for part in parts:
            p.add_run(part if isinstance(part, str) else f"@{part[0]}:{part[1]}@")
    doc.save(str(path))
    with zipfile.ZipFile(path) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    body = files["word/document.xml"].decode("utf-8")
    rels = files["word/_rels/document.xml.rels"].decode("utf-8")
    types = files["[Content_Types].xml"].decode("utf-8")
    for kind, texts in notes.items():
        for nid in texts:
            body = body.replace(
                f"<w:r><w:t>@{kind}:{nid}@</w:t></w:r>",
                f'<w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
                f'<w:{kind}Reference w:id="{nid}"/></w:r>',
            )
        items = "".join(
            f'<w:{kind} w:id="{nid}"><w:p><w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
            f'<w:{kind}Ref/></w:r><w:r><w:t xml:space="preserve"> {text}</w:t></w:r></w:p>'
            f"</w:{kind}>"
            for nid, text in texts.items()
        )
        files[f"word/{kind}s.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:{kind}s xmlns:w="{_W}">'
            f'<w:{kind} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p>'
            f'</w:{kind}><w:{kind} w:type="continuationSeparator" w:id="0"><w:p><w:r>'
            f"<w:continuationSeparator/></w:r></w:p></w:{kind}>{items}</w:{kind}s>"
        ).encode()
        rels = rels.replace(
            "</Relationships>",
            f'<Relationship Id="rIdQa{kind}" Type="http://schemas.openxmlformats.org/'
            f'officeDocument/2006/relationships/{kind}s" Target="{kind}s.xml"/></Relationships>',
        )
        types = types.replace(
            "</Types>",
            f'<Override PartName="/word/{kind}s.xml" ContentType="application/vnd.openxmlformats-'
            f'officedocument.wordprocessingml.{kind}s+xml"/></Types>',
        )
    files["word/document.xml"] = body.encode("utf-8")
    files["word/_rels/document.xml.rels"] = rels.encode("utf-8")
    files["[Content_Types].xml"] = types.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def write_odt(path: Path, title: str, body: str) -> Path:
    """An OpenDocument text file as LibreOffice lays it out: ``body`` is the XML inside
    <office:text> (namespaces text:, table:, office:, draw: and dc: are declared)."""
    ns = {
        "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
        "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
        "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
        "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
        "dc": "http://purl.org/dc/elements/1.1/",
        "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
    }
    declared = " ".join(f'xmlns:{k}="{v}"' for k, v in ns.items())
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {declared} '
        f'office:version="1.3"><office:body><office:text>{body}</office:text></office:body>'
        "</office:document-content>"
    )
    meta = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta {declared} '
        f'office:version="1.3"><office:meta><dc:title>{title}</dc:title></office:meta>'
        "</office:document-meta>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
        '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type='
        '"application/vnd.oasis.opendocument.text"/><manifest:file-entry manifest:full-path='
        '"content.xml" manifest:media-type="text/xml"/><manifest:file-entry manifest:full-path='
        '"meta.xml" manifest:media-type="text/xml"/></manifest:manifest>'
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        zf.writestr("meta.xml", meta, zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
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


def write_pptx(path: Path, slides: list[tuple[str, list[str], str]], title: str = "") -> Path:
    """A real .pptx made with python-pptx: (title, bullet lines, speaker notes) per slide."""
    from pptx import Presentation

    prs = Presentation()
    prs.core_properties.title = title
    for heading, bullets, notes in slides:
        slide = prs.slides.add_slide(prs.slide_layouts[1])  # title and content
        slide.shapes.title.text = heading
        body = slide.placeholders[1].text_frame
        body.text = bullets[0] if bullets else ""
        for line in bullets[1:]:
            body.add_paragraph().text = line
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    prs.save(str(path))
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list]], title: str = "") -> Path:
    """A real .xlsx made with openpyxl: {sheet name: rows}."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    wb.properties.title = title or None
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(str(path))
    return path


def write_epub(path: Path, title: str, chapters: list[tuple[str, str]]) -> Path:
    """A minimal valid EPUB 3: (chapter heading, paragraph) each in its own XHTML file.

    The spine lists the chapters in order while the manifest and the zip list them reversed,
    so a reader that follows the file order instead of the spine reads them backwards.
    """
    items, refs, files = [], [], {}
    for n, (heading, text) in enumerate(chapters, 1):
        name = f"text/ch{n}.xhtml"
        files[name] = (
            '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
            f"<head><title>{heading}</title></head><body><h1>{heading}</h1><p>{text}</p>"
            "</body></html>"
        )
        items.append(f'<item id="c{n}" href="{name}" media-type="application/xhtml+xml"/>')
        refs.append(f'<itemref idref="c{n}"/>')
    opf = (
        '<?xml version="1.0" encoding="utf-8"?><package xmlns="http://www.idpf.org/2007/opf" '
        'version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f'<dc:identifier id="id">x</dc:identifier><dc:title>{title}</dc:title>'
        f"<dc:language>en</dc:language></metadata><manifest>{''.join(reversed(items))}</manifest>"
        f"<spine>{''.join(refs)}</spine></package>"
    )
    container = (
        '<?xml version="1.0"?><container version="1.0" '
        'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
        '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
        "</rootfiles></container>"
    )
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        zf.writestr("META-INF/container.xml", container)
        zf.writestr("OEBPS/content.opf", opf)
        for name in reversed(list(files)):
            zf.writestr(f"OEBPS/{name}", files[name], compress_type=zipfile.ZIP_DEFLATED)
    return path


def text_image(lines: list[str], width: int = 1400, size: int = 34):
    """A white picture with the lines written on it in black (DejaVu Sans), as a PIL image."""
    import matplotlib
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(
        str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"), size
    )
    img = Image.new("RGB", (width, 120 + len(lines) * int(size * 1.6)), "white")
    draw = ImageDraw.Draw(img)
    for n, line in enumerate(lines):
        draw.text((60, 60 + n * int(size * 1.6)), line, fill="black", font=font)
    return img


def write_scanned_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A PDF of page images only, no text layer: each page a picture of its lines."""
    images = [text_image(lines, width=1240) for lines in pages]
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=150)
    return path
