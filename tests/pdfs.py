"""Small real PDFs written with reportlab for tests: layouts and broken inputs on demand."""
from __future__ import annotations

from pathlib import Path

from reportlab import rl_config
from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfgen import canvas

rl_config.invariant = 1
W, H = A4


def simple_treaty(path: Path, pages: list[list[tuple[str, str]]], *, header: str = "Specimen Agreement",
                  footer_numbers: bool = True, encrypt: str | None = None) -> Path:
    """Each page is a list of (style, text) lines: style in body, bold, small (footnote), sup:<n> (marker)."""
    enc = StandardEncryption(encrypt, ownerPassword=encrypt + "-owner") if encrypt else None
    c = canvas.Canvas(str(path), pagesize=A4, encrypt=enc)
    for n, lines in enumerate(pages, start=1):
        c.setFont("Helvetica", 8)
        c.drawString(72, H - 40, header)
        if footer_numbers:
            c.drawCentredString(W / 2, 30, f"- {n} -")
        y = H - 90
        foot_y = 110
        for style, text in lines:
            if style == "small":
                c.setFont("Times-Roman", 8)
                c.drawString(72, foot_y, text)
                foot_y -= 10
                continue
            font = {"body": "Times-Roman", "bold": "Times-Bold"}[style.split(":")[0]]
            c.setFont(font, 11)
            c.drawString(72, y, text)
            y -= 15
        c.showPage()
    c.save()
    return path


def two_column(path: Path) -> Path:
    """A page of two columns: left holds `L1..L30`, right holds `R1..R30`, read column by column."""
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont("Times-Roman", 10)
    for i in range(30):
        y = H - 80 - i * 13
        c.drawString(60, y, f"left column line L{i + 1} with some words of running text")
        c.drawString(W / 2 + 20, y, f"right column line R{i + 1} with some other words too")
    c.showPage()
    c.save()
    return path


def many_pages(path: Path, n: int) -> Path:
    c = canvas.Canvas(str(path), pagesize=A4)
    for i in range(n):
        c.setFont("Times-Roman", 10)
        c.drawString(72, 700, f"Page body {i + 1}")
        c.showPage()
    c.save()
    return path


def image_only(path: Path) -> Path:
    """A 'scanned' page: an image with text drawn into it, no text layer."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader

    img = Image.new("L", (850, 1100), 255)
    d = ImageDraw.Draw(img)
    for i in range(20):
        d.text((80, 80 + i * 40), f"Article {i + 1} scanned text line", fill=0)
    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawImage(ImageReader(img), 0, 0, W, H)
    c.showPage()
    c.save()
    return path
