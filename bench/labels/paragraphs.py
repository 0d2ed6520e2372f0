"""Split a ground-truth article into numbered paragraphs, and fetch one by reference.

The obligation-strength labels in strength.jsonl point at bench paragraphs by
(doc, article_number, para) instead of copying treaty text into the project; these two
functions are the only way to turn such a reference back into text.
"""
import json
import re
from functools import lru_cache
from pathlib import Path

BENCH = Path("/work/shared/bench")

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
