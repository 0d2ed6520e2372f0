"""Split a ground-truth article into numbered paragraphs, and fetch one by reference.

The obligation-strength labels in strength.jsonl point at bench paragraphs by
(doc, article_number, para) instead of copying treaty text into the project; these two
functions are the only way to turn such a reference back into text.
"""
import json
import re
from functools import lru_cache
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2].parent / "shared" / "bench"  # ../shared/bench beside the repo

# A paragraph number "N. " opening the text or following a sentence end (. ; :), then a capital
# letter, bracket or quote. Ground-truth texts are flattened to one line, so line starts are rare.
PARAGRAPH_MARK = re.compile(r"(?:^|(?<=[.;:])\s+|\n\s*)(\d{1,2})\.\s+(?=[A-Z(\"'“‘])")


def _paragraph_starts(text: str) -> list[tuple[int, int]]:
    """(marker start, body start) of the chain of markers numbered 1, 2, 3, ... in order.

    Following the chain rather than taking every "N. " skips cross-references such as
    "... referred to in Article 4. 2. ..." whose number does not continue the sequence.
    """
    starts, wanted, pos = [], 1, 0
    for mark in PARAGRAPH_MARK.finditer(text):
        if mark.start() < pos or int(mark.group(1)) != wanted:
            continue
        starts.append((mark.start(), mark.end()))
        wanted, pos = wanted + 1, mark.end()
    return starts


def paragraphs(article_text: str) -> list[str]:
    """The article's numbered paragraphs without their numbers; the whole body when unnumbered.

    Text before paragraph 1 (a chapeau) is kept at the head of paragraph 1, so that list
    position k - 1 always holds the paragraph printed as "k.".
    """
    text = article_text.strip()
    starts = _paragraph_starts(text)
    if not starts:
        return [text] if text else []
    bounds = [body for _, body in starts]
    ends = [mark for mark, _ in starts[1:]] + [len(text)]
    parts = [text[body:end].strip() for body, end in zip(bounds, ends)]
    chapeau = text[: starts[0][0]].strip()
    if chapeau:
        parts[0] = f"{chapeau} {parts[0]}"
    return parts


@lru_cache(maxsize=64)
def _load(doc: str) -> dict:
    folder = "mou" if doc.startswith("mou_") else "tota"
    return json.loads((BENCH / folder / f"{doc}.json").read_text(encoding="utf-8"))


def article_text(doc: str, article_number: str) -> str:
    """Body of the one article with this number in the ground truth of `doc`."""
    found = [a["text"] for a in _load(doc)["articles"] if a["article_number"] == article_number]
    if len(found) != 1:
        raise KeyError(f"{doc} has {len(found)} articles numbered {article_number!r}")
    return found[0]


def get(doc: str, article_number: str, index: int) -> str:
    """Paragraph `index` (1-based, as in strength.jsonl's "para") of an article in the bench."""
    parts = paragraphs(article_text(doc, article_number))
    if not 1 <= index <= len(parts):
        raise IndexError(f"{doc} {article_number} has {len(parts)} paragraphs, not {index}")
    return parts[index - 1]


LABELS = ("binding", "best_endeavour", "hortatory", "non_binding", "exception", "none")


def split_of(doc: str) -> str:
    """The labels' split rule: pta_N with even N and mou_901/902 are dev; odd N and mou_903 test."""
    if doc.startswith("mou_"):
        return "test" if doc == "mou_903" else "dev"
    return "dev" if int(doc.split("_")[1]) % 2 == 0 else "test"


# the split each file's rows carry, by document half: the first test half (odd documents) was read and
# then joined the dev rows as `dev_b`, the second (`strength_dev_c.jsonl`) likewise as `dev_c`, and the
# first fresh dev batch (`strength_dev3.jsonl`) joined `dev`. Every later file is named after its split:
# `strength_devN.jsonl` (fresh dev batches of even documents) and `strength_testN.jsonl` (held-out halves
# of odd documents, each scored once when fresh; see README_strength.md)
NAMED_SPLITS = {"strength.jsonl": {"dev": "dev", "test": "dev_b"}, "strength_dev_c.jsonl": {"test": "dev_c"},
                "strength_dev3.jsonl": {"dev": "dev"}}


def splits_of(name: str) -> dict:
    """Document half -> split label for one strength label file."""
    if name in NAMED_SPLITS:
        return NAMED_SPLITS[name]
    found = re.fullmatch(r"strength_(dev|test)(\d+)\.jsonl", name)
    if not found:
        raise ValueError(f"{name}: not a strength label file name (strength_devN.jsonl or strength_testN.jsonl)")
    return {found.group(1): found.group(1) + found.group(2)}


def check_labels(path: Path = Path(__file__).with_name("strength.jsonl")) -> dict:
    """Verify every label resolves to a bench paragraph and follows the split rule; count them."""
    splits = splits_of(path.name)
    counts: dict = {}
    seen = set()
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        row = json.loads(line)
        key = (row["doc"], row["article_number"], row["para"])
        if key in seen:
            raise ValueError(f"line {line_no}: duplicate reference {key}")
        if row["label"] not in LABELS:
            raise ValueError(f"line {line_no}: unknown label {row['label']!r}")
        if row["split"] != splits.get(split_of(row["doc"])):
            raise ValueError(f"line {line_no}: {row['doc']} does not belong to split {row['split']!r}")
        get(*key)
        seen.add(key)
        counts.setdefault(row["split"], {}).setdefault(row["label"], 0)
        counts[row["split"]][row["label"]] += 1
    return counts


if __name__ == "__main__":
    import sys

    for split, per_label in sorted(check_labels(*(Path(a) for a in sys.argv[1:2])).items()):
        print(split, sum(per_label.values()), {label: per_label.get(label, 0) for label in LABELS})
