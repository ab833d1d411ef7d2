"""Adversarial files of a given size, one per loader, and a probe of a loader's peak memory."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _zip(path: Path, parts: dict[str, bytes | str]) -> None:
    # Stored, not deflated: the file is as large as the XML (a deflated one is a zip bomb).
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def _pdf(content: bytes) -> bytes:
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref


def write(folder: Path, ext: str, size: int) -> Path:
    """A file of about ``size`` bytes built to cost a reader as much memory as it can."""
    path = folder / f"adversarial{ext}"
    if ext in (".txt", ".md"):
        path.write_bytes(b"a\n" * (size // 2) if ext == ".md" else b"word " * (size // 5))
    elif ext == ".html":
        path.write_bytes(b"<p>a</p>" * (size // 8))
    elif ext == ".csv":  # 100 long column names over single-digit cells: text grows 40-fold
        header = ",".join(f"column_with_a_long_descriptive_name_{i:03d}" for i in range(100))
        path.write_text(header + "\n" + ("1," * 99 + "1\n") * (size // 200))
    elif ext == ".pdf":  # one page, one content stream of tiny text objects
        op = b"BT /F1 9 Tf 72 700 Td (ab) Tj ET\n"
        path.write_bytes(_pdf(op * (size // len(op))))
    elif ext == ".docx":
        para = b"<w:p><w:r><w:t>a</w:t></w:r></w:p>"
        body = para * (size // len(para))
        _zip(path, {"word/document.xml": b"<w:document %s><w:body>" % W_NS.encode() + body
                    + b"</w:body></w:document>"})  # fmt: skip
    elif ext == ".pptx":
        from samples import write_pptx

        write_pptx(path, [("T", ["x"], "")])
        para = b"<a:p><a:r><a:t>a</a:t></a:r></a:p>"
        with zipfile.ZipFile(path) as zf:
            parts = {n: zf.read(n) for n in zf.namelist()}
        slide = parts["ppt/slides/slide1.xml"]
        parts["ppt/slides/slide1.xml"] = slide.replace(
            b"<a:p>", para * (size // len(para)) + b"<a:p>", 1
        )
        _zip(path, parts)
    elif ext == ".xlsx":
        import openpyxl

        wb = openpyxl.Workbook()
        ws = wb.active
        for r in range(size // 400):  # about 4x the size in sheet XML
            ws.append([r, "x", 1.5, "y", r] * 4)
        wb.save(str(path))
    elif ext == ".epub":
        from samples import write_epub

        write_epub(path, "Big", [("C", "a")])
        with zipfile.ZipFile(path) as zf:
            parts = {n: zf.read(n) for n in zf.namelist()}
        parts["OEBPS/text/ch1.xhtml"] = parts["OEBPS/text/ch1.xhtml"].replace(
            b"<p>a</p>", b"<p>a</p>" * (size // 8)
        )
        _zip(path, parts)
    elif ext == ".odt":
        from samples import write_odt

        para = b"<text:p>a</text:p>"
        write_odt(path, "Big", "<text:p>x</text:p>")
        with zipfile.ZipFile(path) as zf:
            parts = {n: zf.read(n) for n in zf.namelist()}
        parts["content.xml"] = parts["content.xml"].replace(
            b"<text:p>x</text:p>", para * (size // len(para))
        )
        _zip(path, parts)
    elif ext == ".rtf":  # nothing but groups opening: a reader that keeps a stack per level
        path.write_bytes(b"{\\rtf1 " + b"{" * (size - 7))
    elif ext == ".eml":  # a plain-text message of one-letter lines: the parser's line list
        head = b"From: ann@example.org\nTo: bob@example.org\nSubject: Big\n\n"
        path.write_bytes(head + b"a\n" * ((size - len(head)) // 2))
    elif ext in (".png", ".jpg", ".tif"):  # a decompression bomb: a huge blank picture
        from PIL import Image

        Image.MAX_IMAGE_PIXELS = None
        buf = io.BytesIO()
        kind = {".png": "PNG", ".jpg": "JPEG", ".tif": "TIFF"}[ext]
        Image.new("L", (12000, 12000), 255).save(buf, kind, **({"compression": "tiff_lzw"} if kind == "TIFF" else {}))  # fmt: skip
        path.write_bytes(buf.getvalue())
    else:
        raise ValueError(ext)
    return path


PROBE = r"""
import json, sys, time
from pathlib import Path
from index.load import load, scan

def hwm_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

import index.formats, importlib
for module in set(m for m, _ in index.formats.READERS.values()):
    importlib.import_module("index.formats." + module)  # libraries loaded before measuring
(entry,), _ = scan([Path(sys.argv[1])], max_bytes=60_000_000)
import gc; gc.collect()
before = hwm_kib()
t0 = time.perf_counter()
result = load(entry, max_bytes=60_000_000)
print(json.dumps({"mb": (hwm_kib() - before) / 1024, "s": time.perf_counter() - t0,
                  "size": entry.size, "skipped": getattr(result, "reason", None)}))
"""


def probe(path: Path, root: Path, timeout: float = 600) -> dict:
    """Load one file in a fresh process: peak memory growth (MB), seconds, and any skip reason."""
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)],
        cwd=root, capture_output=True, text=True, timeout=timeout, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":  # python tests/adversarial.py 49000000 [.ext ...]
    import tempfile

    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "tests"))
    size = int(sys.argv[1])
    exts = sys.argv[2:] or [".txt", ".md", ".html", ".csv", ".pdf", ".docx", ".odt", ".rtf",
                            ".eml", ".pptx", ".xlsx", ".epub", ".png", ".jpg", ".tif"]  # fmt: skip
    for ext in exts:
        with tempfile.TemporaryDirectory() as tmp:
            path = write(Path(tmp), ext, size)
            r = probe(path, root)
            print(f"| {ext} | {r['size'] / 1e6:.1f} MB | {r['mb']:.0f} MB | {r['s']:.1f} s | "
                  f"{r['skipped'] or 'indexed'} |", flush=True)  # fmt: skip
