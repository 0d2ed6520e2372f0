"""The house has one direction: pipeline/ ← flows/ ← clausebank/ (the app layer), and the command
line starts without the heavy libraries."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "spacy", "sentence_transformers", "faiss", "prefect", "pdfplumber", "docx")


def imported_modules(path: Path) -> set[str]:
    """Top-level names of every module a file imports, wherever the import statement sits."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_pipeline_imports_no_upper_layer():
    upper = {"flows", "prefect", "prefect_dask", "typer", "fastapi", "clausebank", "uvicorn"}
    offenders = {str(p.relative_to(ROOT)): sorted(imported_modules(p) & upper)
                 for p in (ROOT / "pipeline").rglob("*.py") if imported_modules(p) & upper}
    assert offenders == {}


def test_flows_import_no_app_layer():
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "flows").rglob("*.py")
                 if imported_modules(p) & {"clausebank", "typer", "fastapi"}]
    assert offenders == []


def test_the_import_check_sees_imports_inside_functions(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text("def f():\n    from flows.ingest import ingest_flow\n")
    assert "flows" in imported_modules(sample)


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return {m.split(".")[0] for m in json.loads(out.stdout.splitlines()[-1])}


def test_cli_starts_without_heavy_libraries():
    loaded = _modules_after("import clausebank.cli")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_reading_the_store_needs_no_heavy_library():
    loaded = _modules_after("import pipeline.store, pipeline.search, pipeline.ingest, pipeline.models")
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
