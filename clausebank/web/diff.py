"""Word-level differences between article texts (difflib), with changes of modality called out:
"shall" -> "shall endeavour" changes what a Party owes, so a reader must see it at a glance."""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

# Words that carry an obligation's force; a change touching one of them is a change of modality.
MODAL_WORDS = re.compile(
    r"\b(shall|must|will|should|may|might|can|cannot|not|no|endeavou?r\w*|strive\w*|best|efforts?|"
    r"encourage\w*|recogni[sz]e\w*|undertake\w*|agree\w*|consider\w*|seek\w*|aim\w*|possible|appropriate|"
    r"commit\w*|require\w*|ensure\w*|promote\w*|cooperat\w*)\b", re.IGNORECASE)


@dataclass
class Segment:
    op: str  # "equal", "insert" (only in the other text) or "delete" (only in the first)
    text: str
    modal: bool = False


@dataclass
class ModalityChange:
    before: str
    after: str


MAX_MODAL_SPAN = 6  # words: a longer replacement is new wording, not a change of the same duty's force


def _modality_changed(removed: str, added: str) -> bool:
    """A short change whose obligation words differ: `shall` -> `shall endeavour to`, `may` -> `shall`."""
    if max(len(removed.split()), len(added.split())) > MAX_MODAL_SPAN:
        return False
    def modals(text: str) -> list[str]:
        return sorted(m.lower() for m in MODAL_WORDS.findall(text))
    return modals(removed) != modals(added)


def _words(text: str) -> list[str]:
    """Words with their trailing space, so joined segments read as the original text."""
    return re.findall(r"\S+\s*", text)


def word_diff(base: str, other: str) -> tuple[list[Segment], list[ModalityChange]]:
    """`other` against `base`, word by word, and the changes of modality with a word of context."""
    a, b = _words(base), _words(other)
    segments: list[Segment] = []
    changes: list[ModalityChange] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            segments.append(Segment("equal", "".join(a[i1:i2])))
            continue
        removed, added = "".join(a[i1:i2]), "".join(b[j1:j2])
        modal = _modality_changed(removed, added)
        if removed:
            segments.append(Segment("delete", removed, modal))
        if added:
            segments.append(Segment("insert", added, modal))
        if modal:
            before_ctx, after_ctx = "".join(a[max(0, i1 - 1):i1]), "".join(a[i2:i2 + 1])
            changes.append(ModalityChange((before_ctx + removed + after_ctx).strip(),
                                          (before_ctx + added + after_ctx).strip()))
    return segments, changes


def similarity(base: str, other: str) -> float:
    """Share of words the two texts have in common, in order (0..1)."""
    return difflib.SequenceMatcher(None, _words(base), _words(other), autojunk=False).ratio()
