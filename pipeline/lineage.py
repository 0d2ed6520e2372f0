"""Clause lineage: near-copies of an article across agreements, the likely template, and what changed.

Trade agreements copy each other. Two figures tell copies from paraphrases:
- word-shingle Jaccard, estimated from MinHash signatures (`datasketch`), for copies;
- cosine similarity of the MiniLM vectors already in the FAISS index, for paraphrases.
Relatives are ranked by cosine with a small Jaccard bonus (`family_score`). Signatures are kept in
`<home>/lineage.npz` by `sync_signatures` (only new articles are signed: ~0.25 ms each); a lookup
compares one signature with all of them at once (numpy), no model needed. `Lineage` keeps the
signatures and the FAISS index loaded for many lookups.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .fileutil import atomic_write

NUM_PERM = 128
SHINGLE = 3  # words
SIGNATURES = "lineage.npz"
COPY_MIN_JACCARD = 0.1  # below this share of 3-word runs two articles are not copies of each other
# Modal phrases (the verb that sets how strongly a Party is bound, not the verb it is bound to do),
# longest first so "shall not" is read before "shall"; spelling variants are read as one phrase.
MODALS = sorted([
    "shall", "shall not", "must", "must not", "may", "may not", "should", "should not", "will", "will not",
    "shall endeavour to", "shall endeavor to", "shall make every effort to", "shall seek to", "shall strive to",
    "will endeavour to", "will endeavor to", "endeavour to", "endeavor to", "shall use best endeavours to",
    "is encouraged to", "are encouraged to", "agree to",
], key=lambda m: -len(m.split()))
SPELLING = {"endeavor": "endeavour"}
# modal phrases by first word, each as (its words, what it is reported as), longest first
_MODALS_BY_FIRST: dict[str, list[tuple[tuple[str, ...], str]]] = {}
for _m in MODALS:
    _MODALS_BY_FIRST.setdefault(_m.split()[0], []).append(
        (tuple(_m.split()), " ".join(SPELLING.get(w, w) for w in _m.removesuffix(" to").split())))


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", text.lower())


def shingles(text: str, k: int = SHINGLE) -> set[str]:
    w = words(text)
    return {" ".join(w[i:i + k]) for i in range(max(1, len(w) - k + 1))} if w else set()


def signature(text: str) -> np.ndarray:
    """The MinHash signature (NUM_PERM values) of a text's word shingles. datasketch keeps hash
    values below 2**32, so they are stored as uint32: half the file, twice as fast to compare."""
    from datasketch import MinHash

    mh = MinHash(num_perm=NUM_PERM, seed=1)
    mh.update_batch([s.encode() for s in shingles(text)])
    return mh.hashvalues.astype(np.uint32)


class SignatureIndex:
    """MinHash signatures of every stored article, keyed by article id, saved atomically."""

    def __init__(self, home: Path | str):
        self.path = Path(home) / SIGNATURES
        self.ids = np.zeros(0, dtype=np.int64)
        self.sigs = np.zeros((0, NUM_PERM), dtype=np.uint32)
        if self.path.exists():
            with np.load(self.path) as data:
                self.ids, self.sigs = data["ids"], data["sigs"].astype(np.uint32)
        self._row: dict[int, int] | None = None

    def sync(self, articles: dict[int, str]) -> dict[str, int]:
        """Hold exactly the articles given (id → text): drop the ones gone, sign only the new ones."""
        keep = np.isin(self.ids, list(articles))
        removed = int((~keep).sum())
        self.ids, self.sigs = self.ids[keep], self.sigs[keep]
        new = sorted(set(articles) - set(self.ids.tolist()))
        if new:
            self.ids = np.concatenate([self.ids, np.asarray(new, dtype=np.int64)])
            self.sigs = np.vstack([self.sigs, np.stack([signature(articles[i]) for i in new])])
        self._row = None
        if new or removed or not self.path.exists():
            atomic_write(self.path, lambda tmp: _save_npz(tmp, self.ids, self.sigs))
        return {"signed": len(new), "removed": removed}

    def row(self, article_id: int) -> int | None:
        if self._row is None:
            self._row = {int(i): n for n, i in enumerate(self.ids.tolist())}
        return self._row.get(int(article_id))

    def jaccard(self, sig: np.ndarray) -> np.ndarray:
        """Estimated Jaccard similarity of `sig` with every stored signature, in `self.ids` order."""
        return np.count_nonzero(self.sigs == sig, axis=1) / NUM_PERM if len(self.ids) else np.zeros(0)

    def nearest(self, article_id: int, text: str, k: int) -> dict[int, float]:
        """The k articles whose word shingles overlap most with this one's (its stored signature, or
        one made from `text` when it has none yet), id → estimated Jaccard."""
        row = self.row(article_id)
        jac = self.jaccard(self.sigs[row] if row is not None else signature(text))
        if not len(jac):
            return {}
        top = np.argpartition(-jac, min(k, len(jac) - 1))[:k]
        return {int(self.ids[i]): float(jac[i]) for i in top}

    def pairwise(self, article_id: int, text: str, others: list[int]) -> dict[int, float]:
        """Estimated Jaccard of one article with each of `others` (absent ones are left out)."""
        row = self.row(article_id)
        sig = self.sigs[row] if row is not None else signature(text)
        rows = {i: self.row(i) for i in others}
        return {i: float((self.sigs[r] == sig).mean()) for i, r in rows.items() if r is not None}


def _save_npz(tmp: str, ids: np.ndarray, sigs: np.ndarray) -> None:
    with open(tmp, "wb") as fh:  # a file object: np.savez would append ".npz" to a path
        np.savez(fh, ids=ids, sigs=sigs)


def sync_signatures(store) -> dict[str, int]:
    """Bring `<home>/lineage.npz` in line with the store (called by ingestion after storing)."""
    arts = store.articles_by_id(store.article_ids(), with_parts=False)
    return SignatureIndex(store.home).sync({i: a.text for i, a in arts.items() if a.unit != "table"})


@dataclass
class Relative:
    doc: str
    article_number: str
    article_title: str
    date_signed: str
    similarity: float  # cosine of the MiniLM vectors (paraphrase)
    jaccard: float  # word-shingle Jaccard (copy)
    citation: str
    template: bool = False
    text: str = ""  # the article's text (read once with the family)
    diff: list[tuple[str, str]] = field(default_factory=list)  # against the template
    modality_changes: list[tuple[str, str]] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"doc": self.doc, "article_number": self.article_number, "article_title": self.article_title,
                "date_signed": self.date_signed, "similarity": round(self.similarity, 4),
                "jaccard": round(self.jaccard, 4), "citation": self.citation}


def family_score(cosine: float, jaccard: float) -> float:
    """How relatives are ranked: by meaning (cosine), with shared wording (Jaccard) as a small
    bonus so that, among equally close articles, copies come first. Chosen on the dev half of
    bench/lineage_families.json (recall@20 0.909 against 0.905 for the larger of the two and
    0.855 for their sum): the body vectors already find most copies."""
    return cosine + 0.1 * jaccard


def similar_articles(store, doc_id: str, number: str, *, top: int = 20, min_similarity: float = 0.0,
                     index=None, signatures: SignatureIndex | None = None) -> list[Relative]:
    """An article's family across the store: its near-copies (Jaccard) and paraphrases (vectors),
    oldest first, the earliest marked as the likely template, each with a diff against it.
    The article itself is part of the family. `index` (the FAISS body index) and `signatures` are
    loaded from the store's home when not given; pass them to look up many articles."""
    found = store.find_articles(doc_id, number)
    if not found:
        raise KeyError(f"no article {number!r} in {doc_id!r}")
    return family_of(store, found[0], top=top, min_similarity=min_similarity, index=index, signatures=signatures)


def family_of(store, art, *, top: int = 20, min_similarity: float = 0.0, index=None,
              signatures: SignatureIndex | None = None) -> list[Relative]:
    """`similar_articles` for a stored article (one of several that share a number, when numbering
    restarts in each chapter)."""
    from .search import make_hit

    signatures = signatures or SignatureIndex(store.home)
    index = index if index is not None else _body_index(store)
    jac = signatures.nearest(art.id, art.text, top * 3)
    cos = _vector_neighbours(art.id, top * 3, index)
    # each candidate gets both figures, whichever list it came from
    jac.update(signatures.pairwise(art.id, art.text, [i for i in cos if i not in jac]))
    cos.update(_cosines(art.id, [i for i in jac if i not in cos], index))
    score = {i: family_score(cos.get(i, 0.0), jac.get(i, 0.0)) for i in {*jac, *cos} - {art.id}}
    ranked = [i for i in sorted(score, key=lambda i: -score[i]) if score[i] >= min_similarity][:top - 1]
    chosen = [art.id, *ranked]
    arts = store.articles_by_id(chosen, with_parts=False)
    docs = store.documents_by_id([a.doc_id for a in arts.values()])
    family = [Relative(a.doc_id, a.article_number, a.article_title, docs[a.doc_id].date_signed,
                       1.0 if i == art.id else cos.get(i, 0.0), 1.0 if i == art.id else jac.get(i, 0.0),
                       make_hit(a, docs[a.doc_id]).citation, text=a.text)
              for i, a in arts.items()]
    family.sort(key=lambda r: (r.date_signed or "9999", r.doc, r.article_number))
    if family:
        family[0].template = True
        by_key = {(a.doc_id, a.article_number): a for a in arts.values()}
        base = by_key[(family[0].doc, family[0].article_number)]
        shared = signatures.pairwise(base.id, base.text, [a.id for a in arts.values()])
        for r in family[1:]:
            other = by_key[(r.doc, r.article_number)]
            # a text that shares almost no wording with the template is a paraphrase: a word diff
            # or modal pairing between the two would be noise (and costs the most time)
            if shared.get(other.id, 1.0) >= COPY_MIN_JACCARD:
                r.diff = word_diff(base.text, other.text)
                r.modality_changes = modality_changes(base.text, other.text)
    return family


class Lineage:
    """Many lookups in one process (a web app, a batch): the signatures and the FAISS body index
    loaded once, `similar(doc, number)` as `similar_articles`."""

    def __init__(self, store, index=None):
        import faiss

        # one lookup at a time: one FAISS thread beats several spinning on a busy machine (as search does)
        faiss.omp_set_num_threads(1)
        self.store = store
        self.signatures = SignatureIndex(store.home)
        self.index = index if index is not None else _body_index(store)

    def similar(self, doc_id: str, number: str, **kw) -> list[Relative]:
        return similar_articles(self.store, doc_id, number, index=self.index, signatures=self.signatures, **kw)


def _body_index(store):
    """The FAISS body index of the store, or None when there is none."""
    from .index import INDEX_FILES, VectorIndex

    path = store.home / INDEX_FILES["body"]
    return VectorIndex.load(path) if path.exists() else None


def _stored_vector(article_id: int, index) -> np.ndarray | None:
    try:
        return index.index.reconstruct(int(article_id))
    except RuntimeError:  # not in the index (stale, or indexing skipped)
        return None


def _cosines(article_id: int, others: list[int], index) -> dict[int, float]:
    """Cosine of the article's stored vector with each of `others` that the index holds."""
    vec = _stored_vector(article_id, index) if index is not None and others else None
    if vec is None:
        return {}
    found = {i: v for i in others if (v := _stored_vector(i, index)) is not None}
    return {i: float(v @ vec) for i, v in found.items()}


def _vector_neighbours(article_id: int, k: int, index) -> dict[int, float]:
    """Cosine similarity of the article's stored vector to its k nearest articles (empty without an index)."""
    vec = _stored_vector(article_id, index) if index is not None else None
    return dict(index.search(np.asarray(vec), k)) if vec is not None else {}


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """`(op, text)` runs from `old` to `new`: op is "=", "+" (added) or "-" (removed)."""
    a, b = old.split(), new.split()
    out: list[tuple[str, str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(("=", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(("-", " ".join(a[i1:i2])))
        if j2 > j1:
            out.append(("+", " ".join(b[j1:j2])))
    return out


def modal_tokens(tokens: list[str]) -> list[str]:
    """The words with each modal phrase collapsed into one token `"<shall endeavour>"`, read longest
    first ("shall not" before "shall"); a trailing "to" is dropped and spelling variants are unified."""
    out, i = [], 0
    while i < len(tokens):
        for phrase, name in _MODALS_BY_FIRST.get(tokens[i], ()):
            if tuple(tokens[i:i + len(phrase)]) == phrase:
                out.append(f"<{name}>")
                i += len(phrase)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def modal_phrases(tokens: list[str]) -> list[str]:
    """The modal verb phrases in a word sequence, in reading order ("shall endeavour to" → "shall endeavour")."""
    return [t[1:-1] for t in modal_tokens(tokens) if t.startswith("<")]


def modality_changes(old: str, new: str) -> list[tuple[str, str]]:
    """Modal phrases that an edit turned into another, e.g. ("shall", "shall endeavour") or
    ("shall not", "may"), in reading order. The two texts are aligned with every modal phrase read
    as the same placeholder, so a modal is paired with the one that stands in its place: same words
    around it. Modals in a sentence added or removed whole have no partner and are not a change."""
    a, b = modal_tokens(words(old)), modal_tokens(words(new))
    generic = [["<modal>" if t.startswith("<") else t for t in seq] for seq in (a, b)]
    ops = difflib.SequenceMatcher(None, *generic, autojunk=False).get_opcodes()
    changes = []
    for n, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag != "equal":
            continue
        # a modal at the edge of an aligned run, next to words only one text has, may belong to a
        # sentence added or removed ("Each Party shall" + the rest of another sentence): paired only
        # when the words beside it were replaced (an edit of the clause), not merely added or removed
        left_ok = n == 0 or ops[n - 1][0] == "replace"
        right_ok = n == len(ops) - 1 or ops[n + 1][0] == "replace"
        for k in range(i2 - i1):
            x, y = a[i1 + k], b[j1 + k]
            if x == y or not x.startswith("<"):
                continue
            if (k == 0 and not left_ok) or (k == i2 - i1 - 1 and not right_ok):
                continue
            changes.append((x[1:-1], y[1:-1]))
    return changes
