"""Clause analysis: topics with evidence, obligation strength, exceptions, entities.

The fast path is `spacy.blank("en")` plus lexical rules (PhraseMatcher / Matcher / EntityRuler
patterns in `patterns/analysis.toml`): no tagger is needed, so nothing here depends on POS tags.

Mission topics are decided paragraph by paragraph from what the text says (../shared/topics.md):
operative phrases (rules) and, for what they miss or find only in passing, the MiniLM similarity of
the paragraph (read with its article title) to topic exemplars we wrote
(`patterns/topic_exemplars.toml`). Only paragraphs that pass a topic's cheap lexical gate are
embedded; the model loads lazily once per process, and without it topics come from rules alone.
An article's topics are those of its paragraphs.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .countries import country_name_map
from .metadata import kind_family
from .models import Article, Clause, Document, Evidence

if TYPE_CHECKING:
    from collections.abc import Callable

    from spacy.matcher import Matcher, PhraseMatcher

log = logging.getLogger(__name__)

PATTERNS = Path(__file__).with_name("patterns") / "analysis.toml"
EXEMPLARS = Path(__file__).with_name("patterns") / "topic_exemplars.toml"
# per topic, two logistic regressions (on the same embeddings, on word TF-IDF) trained on paragraphs we
# wrote (bench/train_topics.py)
TOPIC_CLASSIFIER = Path(__file__).with_name("patterns") / "topic_classifier.json"
WORDS_SETTINGS = {"ngram_range": (1, 2), "sublinear_tf": True}  # the TF-IDF reader's (shared with its trainer)
# the exemplars' embeddings, written with the classifier (`python -m bench.train_topics`): every parse
# worker would otherwise spend ~2 s embedding them again
EXEMPLAR_VECTORS = Path(__file__).with_name("patterns") / "topic_exemplar_vectors.npz"
MISSION_TOPICS = ("data_flows", "data_localisation", "privacy", "it_mobility")
STRENGTH_CLASSES = ("non_binding_status", "exception", "best_endeavour", "binding", "non_binding", "hortatory",
                    "descriptive")
DATE_RE = re.compile(
    r"\b(\d{1,2}\s+(January|February|March|April|May|June|July|August|September|October|November|December)\s+\d{4}|"
    r"(January|February|March|April|May|June|July|August|September|October|November|December)\s+\d{1,2},\s+\d{4})\b")
# "“Personal information” means ...", "(b) business visitor means ...": a definition names a term, it
# does not commit on it
DEFINITION_RE = re.compile(r"^\W*(?:\(?[a-z0-9]{1,4}[.)]\s*)*(?:the terms?\s+)?(?:[“\"‘'](?P<term>[^“”\"]{1,90})[”\"’']|"
                           r"(?P<bare>(?!\w+ shall)(?:[\w-]+\s+){0,3}[\w-]+))\s*(?:,[^,]{0,40},\s*)?"
                           r"(?:means|shall mean|refers to)\b", re.I)
DEFINED_TERM_RE = re.compile(r"[”\"’']\s*(?:means|shall mean|refers to)\b", re.I)
# "(d) personal information means ...; business person means ...": unquoted terms defined in a list
LISTED_DEFINITION_RE = re.compile(r"(?:^|[:;])\s*(?:\(?[a-z0-9]{1,4}[.)]\s+)?[^;:.]{1,80}?\b(?:means|shall mean)\b", re.I)
# "For purposes of this Chapter, the following terms shall be understood as: exporter: a person ...;": a glossary
# or "In this Chapter: (a) computing facilities are ...": a lead that opens onto a list of terms
GLOSSARY_LEAD_RE = re.compile(r"\bthe following (?:terms|definitions|expressions|words)\b[^.:]{0,60}?"
                              r"(?:apply|mean|meanings?|understood|defined)\b|^\W*(?:In|For (?:the )?purposes? of) this "
                              r"(?:Chapter|Agreement|Article|Section|Annex|Protocol|Title|Part|Memorandum)\s*:", re.I)
# "(b) the protection of personal data;": an item of an enumerated list
ENUMERATOR_RE = re.compile(r"(?:^|(?<=[\s:;,]))\(?(?:[a-z]|[ivx]{1,5}|\d{1,2})\)\s", re.I)
LIST_ITEM_WORDS = 8  # an enumerated item this short names a subject; a longer one can hold a rule
ITEM_VERBS = {"adopt", "maintain", "ensure", "provide", "allow", "permit", "apply", "establish", "refrain", "protect",
              "require", "prohibit", "restrict", "grant", "accord", "publish", "impose", "prevent", "take"}
# a sentence opening on a recital ("Recognising the importance of protecting personal information, the
# Parties shall ..."): what it names is the context of the duty, not its subject
RECITAL_PARTICIPLES = {"recognising", "recognizing", "considering", "noting", "acknowledging", "desiring", "bearing",
                       "mindful", "conscious", "affirming", "reaffirming", "emphasising", "emphasizing", "stressing"}
RECITAL_LEAD_RE = re.compile(r"^\W*(?:\(?[a-z0-9]{1,4}[.)]\s*)?(" + "|".join(sorted(RECITAL_PARTICIPLES)) + r")\b", re.I)
MAIN_CLAUSE_RE = re.compile(r",\s*(?:the|each|a|both|either|neither|no|all)\s+(?:parties|party|participants?|sides?)\b",
                            re.I)
DISCLAIMER_RE = re.compile(r"\b(not|no|without)\b[^.]{0,60}\blegally binding|not (a|an) (treaty|international agreement)"
                           r"|not create any (legal )?rights or obligations", re.I)
# treaty "will ..." (see bench/labels/README_strength.md): a definite act binds
TREATY_WILL = {"will": "binding", "will not": "binding", "will endeavour": "best_endeavour", "will endeavor": "best_endeavour",
               "will strive": "best_endeavour", "will seek to": "best_endeavour", "will seek": "best_endeavour", "will make efforts": "best_endeavour",
               "will make every effort": "best_endeavour", "will aspire": "best_endeavour",
               "will exert": "best_endeavour", "will encourage": "hortatory"}
# a sentence opening on a recital, a condition or a purpose ("To encourage ..., the Parties shall"): its
# triggers before the main clause (after a comma and a subject, or after a colon that no trigger precedes)
# do not decide
RECITAL_OPENERS = RECITAL_PARTICIPLES | {
                   "if", "where", "when", "should", "in", "to", "with", "for", "while", "within", "upon", "on",
                   "after", "before", "during", "unless", "until", "once", "at", "without", "notwithstanding",
                   "subject", "except", "following", "pursuant"}
MAIN_SUBJECTS = {"the", "each", "a", "both", "either", "neither", "no", "all", "it", "they", "parties", "that", "such",
                 "any", "nothing", "this", "these", "its", "their"}
# a paragraph that applies "this Chapter" reads with its chapter's subject (see Analyser._chapter_context)
CHAPTER_REF_RE = re.compile(r"\bthis (chapter|section)\b", re.IGNORECASE)
CHAPTER_CONTEXT_MIN = 3  # articles of the chapter on the topic, at least
CHAPTER_CONTEXT_SHARE = 0.5  # and at least this share of the chapter's other articles
# "subject to its laws on privacy": a passing qualifier just before a rule hit
QUALIFIER_RE = re.compile(r"\b(subject to|in accordance with|consistent with|without prejudice to|pursuant to)\b"
                          r"[^.;:]{0,50}\b(laws?|legislation|regulations?|rules)\b[^.;:]{0,25}$", re.I)
# "... shall apply without prejudice to other provisions which: (a) ...; (e) govern the processing of personal
# data": a saving clause lists what other rules do, it does not regulate them
SAVING_LIST_RE = re.compile(r"\bwithout prejudice to\b[^.:;]{0,100}\b(?:which|that)\s*:[^.]*$", re.I)
# passing mentions the learned classifier may not overrule (short list items and qualifiers stay open to
# it: on our own paragraphs they often sit in provisions that are on the topic)
CLASSIFIER_BARRED_PASSING = {"recital", "saving list"}
# the items of a list of grounds: semicolons, or enumerators such as "(b)" and "2)"
GROUND_SPLIT_RE = re.compile(r";|\s\(?[a-z0-9]{1,4}\)\s")
# "For the transfer and processing of personal data, Article 13 of Title III shall apply.": the paragraph only
# sends its subject to another provision, which is where the commitment is read; its rule hits are passing and
# the classifier does not decide it
REFERRAL_RE = re.compile(r"^\s*(?:\d+\.\s*)?(?:For|As regards|With regard to|In respect of|Concerning)\b"
                         r"(?:[^.;]|\.\d){0,160},\s*(?:the provisions of\s+)?"
                         r"(?:Articles?|Titles?|Chapters?|Sections?|Annex(?:es)?|Protocol)\b(?:[^.;]|\.\d){0,120}"
                         r"\b(?:shall|will)\s+apply(?:\s+mutatis mutandis)?\s*\.?\s*$")
# "The Parties agree that ...": a frame; a later trigger in its sentence says what was agreed
FRAMES = {"agree that", "agrees that", "have agreed that", "has agreed that"}
MOU_PARTIES_RE = re.compile(r"\b(Participants?|Sides?|Memorandum)\b")
CHUNK_CHARS = 1100  # MiniLM reads ~256 word pieces; longer paragraphs are read in pieces


def titled(title: str, text: str) -> str:
    """What the topic signals read (gates, similarity, classifier): a paragraph with its article title."""
    return f"{title}. {text}" if title else text


def _widened(gate: str, words: str) -> re.Pattern:
    """A gate regex that also matches `words` (alternatives), starting and ending at word boundaries
    where the gate's own alternatives do."""
    end = r"\b" if gate.endswith(r"\b") else ""
    return re.compile(rf"{gate}|\b(?:{words}){end}")


@dataclass
class _Paragraph:
    """A clause awaiting its topic decision: rule hits per topic and the pieces to embed."""

    clause: Clause
    title: str
    phrases: dict[str, Evidence] = field(default_factory=dict)
    mentions: dict[str, Evidence] = field(default_factory=dict)
    pieces: list[str] = field(default_factory=list)
    gated: set[str] = field(default_factory=set)  # topics the paragraph is embedded for (either gate)
    similarity_gated: set[str] = field(default_factory=set)  # topics the similarity signal may decide
    definitions: bool = False  # a paragraph of definitions decides no mission topic (topics.md)
    refers_elsewhere: bool = False  # it only sends its subject to another provision (REFERRAL_RE)
    # topics whose operative phrase sits in a recital or a saving clause's list: not for the classifier
    passing: set[str] = field(default_factory=set)
    scores: list[dict[str, tuple[float, str, float, str, float]]] = field(default_factory=list)  # per piece


class TopicClassifier:
    """The learned topic signal: per topic, the mean probability of a logistic regression on the text's
    embedding and one on its word / word-pair TF-IDF (weights from bench/train_topics.py)."""

    def __init__(self, model: dict):
        import numpy as np
        from sklearn.feature_extraction.text import TfidfVectorizer

        vocabulary = model["words"]["vocabulary"]
        self.words = TfidfVectorizer(**WORDS_SETTINGS, vocabulary={w: i for i, w in enumerate(vocabulary)})
        self.words.idf_ = np.array(model["words"]["idf"])
        self.words_share = model["words_share"]
        self.weights = {t: (np.array(m["coef"], dtype="float32"), m["intercept"],
                            np.array(m["words_coef"]), m["words_intercept"]) for t, m in model["topics"].items()}

    def probabilities(self, texts: list[str], vectors) -> dict:
        """Per topic, the probability of each text (vectors: their embeddings, in order)."""
        return {topic: (1 - self.words_share) * on_vectors + self.words_share * on_words
                for topic, (on_vectors, on_words) in self.readers(texts, vectors).items()}

    def readers(self, texts: list[str], vectors) -> dict:
        """Per topic, each reader's own probability of each text: (on the embedding, on the words)."""
        import numpy as np

        counts = self.words.transform(texts)
        return {topic: (1 / (1 + np.exp(-(vectors @ w + b))), 1 / (1 + np.exp(-(counts @ words_w + words_b))))
                for topic, (w, b, words_w, words_b) in self.weights.items()}


class TopicSimilarity:
    """MiniLM similarity of texts to our topic exemplars (positive and near-miss negatives), and the
    learned classifier's probability per topic (TopicClassifier, on the same embedding and the words)."""

    def __init__(self, exemplars_path: Path = EXEMPLARS):
        from .embed import Embedder

        import multiprocessing

        if multiprocessing.parent_process() is not None:  # a parse worker: one core each, not all of them
            import torch

            torch.set_num_threads(1)
        cfg = tomllib.loads(exemplars_path.read_text(encoding="utf-8"))
        self.embedder = Embedder()
        self.gates = {t: [re.compile(g) for g in s["gate"]] for t, s in cfg["topics"].items()}
        self.classifier_gates = {t: [_widened(g, w) for g, w in zip(s["gate"], s["classifier_words"])]
                                 for t, s in cfg["topics"].items()}
        self.classifier_requires = {t: [re.compile(r) for r in s.get("classifier_requires", [])]
                                    for t, s in cfg["topics"].items()}
        ids, texts, self.topic_of, self.negative_for = [], [], {}, {}
        for topic, spec in cfg["topics"].items():
            for ex_id, text in {f"{topic}.description": spec["description"], **spec["positive"]}.items():
                ids.append(ex_id)
                texts.append(text)
                self.topic_of[ex_id] = topic
        for ex_id, spec in cfg["negative"].items():
            ids.append(ex_id)
            texts.append(spec["text"])
            self.negative_for[ex_id] = set(spec["topics"])
        self.ids, self.texts = ids, texts
        self.matrix = self._exemplar_matrix()  # (exemplars × 384), L2-normalised
        self.classifier = TopicClassifier(json.loads(TOPIC_CLASSIFIER.read_text(encoding="utf-8")))

    def exemplar_key(self) -> str:
        """Names the model and every exemplar text: shipped vectors under another key are stale."""
        from .embed import MODEL_NAME

        return hashlib.sha1("\n".join([MODEL_NAME, *self.ids, *self.texts]).encode()).hexdigest()

    def _exemplar_matrix(self):
        """The shipped exemplar vectors when they are of these exemplars, else embedded now."""
        import numpy as np

        try:
            with np.load(EXEMPLAR_VECTORS) as shipped:
                if str(shipped["key"]) == self.exemplar_key():
                    return shipped["vectors"]
        except (OSError, KeyError, ValueError):
            pass
        log.info("topic exemplars changed since %s was written; embedding them", EXEMPLAR_VECTORS.name)
        return self.embedder.encode(self.texts)

    def write_exemplar_vectors(self) -> None:
        """Embed the exemplars afresh and ship them (see EXEMPLAR_VECTORS)."""
        import numpy as np

        self.matrix = self.embedder.encode(self.texts)
        np.savez(EXEMPLAR_VECTORS, key=self.exemplar_key(), vectors=self.matrix)

    def gate(self, text: str, classifier: bool = False) -> set[str]:
        """Topics whose cheap lexical gate (the similarity's, or the classifier's wider one) the
        (lower-cased) text passes."""
        gates = self.classifier_gates if classifier else self.gates
        return {t for t, regexes in gates.items() if all(rx.search(text) for rx in regexes)}

    def classifier_may_decide(self, topic: str, text: str) -> bool:
        """Whether the paragraph says what the topic's classifier needs besides its wording (any of the
        topic's `classifier_requires` patterns, when it has some)."""
        required = self.classifier_requires[topic]
        return not required or any(rx.search(text) for rx in required)

    def scores(self, texts: list[str]) -> list[dict[str, tuple[float, str, float, str, float]]]:
        """Per text and topic: (best positive similarity, its exemplar id, best negative, its id, the
        classifier's probability)."""
        if not texts:
            return []
        import numpy as np

        vectors = self.embedder.encode(texts)
        sims = vectors @ self.matrix.T
        probability = self.classifier.probabilities(texts, vectors)
        out: list[dict[str, tuple[float, str, float, str, float]]] = [{} for _ in texts]
        for topic in self.gates:
            pos = [i for i, ex in enumerate(self.ids) if self.topic_of.get(ex) == topic]
            neg = [i for i, ex in enumerate(self.ids) if topic in self.negative_for.get(ex, ())]
            p_best, n_best = sims[:, pos].argmax(axis=1), sims[:, neg].argmax(axis=1)
            for k in range(len(texts)):
                i, j = pos[p_best[k]], neg[n_best[k]]
                out[k][topic] = (float(sims[k, i]), self.ids[i], float(sims[k, j]), self.ids[j],
                                 float(probability[topic][k]))
        return out


@lru_cache(maxsize=1)
def topic_similarity() -> TopicSimilarity | None:
    """The similarity signal, loaded once per process; None (rules only) when the model cannot load."""
    try:
        return TopicSimilarity()
    except Exception as exc:  # noqa: BLE001 - any load failure means: carry on with rules
        log.warning("topic similarity model unavailable (%s: %s); mission topics from rules only",
                    type(exc).__name__, exc)
        return None


def _with_vocabulary(patterns: list, vocabulary: dict[str, list[str]]) -> list:
    """Matcher patterns with each `IN` / `NOT_IN` set named "$list" replaced by that list of the topic's
    `vocabulary` (one word list shared by many patterns)."""
    def expand(value):
        if isinstance(value, dict):
            return {k: expand(v) for k, v in value.items()}
        return vocabulary[value[1:]] if isinstance(value, str) and value.startswith("$") else value
    return [[expand(token) for token in pattern] for pattern in patterns]


def _pieces(text: str) -> list[str]:
    """A paragraph cut at sentence or list-item ends into pieces MiniLM reads whole."""
    if len(text) <= CHUNK_CHARS * 1.3:
        return [text]
    parts = re.split(r"(?<=[.;:])\s+(?=\(?[A-Za-z0-9])", text)
    pieces, cur = [], ""
    for part in parts:
        if cur and len(cur) + len(part) > CHUNK_CHARS:
            pieces.append(cur)
            cur = ""
        cur = f"{cur} {part}".strip()
    return pieces + ([cur] if cur else [])


def _enumerated_item(text: str, ev: Evidence) -> bool:
    """Whether a rule hit sits in a short item of an enumerated list of three or more ("(a) trade in goods;
    (b) the protection of personal data; (c) ...")."""
    marks = list(ENUMERATOR_RE.finditer(text))
    if len(marks) < 3:
        return False
    before = [m for m in marks if m.end() <= ev.start]
    if not before:
        return False
    start = before[-1].end()
    ends = [i for i in (text.find(";", ev.end), *(m.start() for m in marks if m.start() >= ev.end)) if i >= 0]
    end = min(ends) if ends else len(text)
    words = text[start:end].split()
    # "(b) imposing unnecessary barriers on ...", "(a) adopt measures to ...": an item that is an act,
    # what a duty's verb governs, is operative however short
    act = bool(words) and (words[0].lower().endswith("ing") or words[0].lower() in ITEM_VERBS)
    return ";" not in text[start:ev.start] and len(words) <= LIST_ITEM_WORDS and not act


def _in_recital(text: str, ev: Evidence) -> bool:
    """Whether a rule hit is in the recital that opens its sentence, before the main clause."""
    start = max(text.rfind(". ", 0, ev.start) + 1, text.rfind(";", 0, ev.start) + 1, 0)
    sentence = text[start:]
    lead = RECITAL_LEAD_RE.match(sentence)
    main = MAIN_CLAUSE_RE.search(sentence)
    return bool(lead and main and start + main.start() >= ev.end)


# "Chapter Twelve (Temporary Entry of Business Persons)": the title of another chapter, as in the lists of
# chapters an exception covers (an article named so, "Article 14.13 (Location of Computing Facilities) does
# not apply to ...", is often what the paragraph is about)
CROSS_REFERENCE_RE = re.compile(r"\bChapters?\s+[\w.-]+\s*\([^()]*$")


def _cross_reference(text: str, ev: Evidence) -> bool:
    """Whether a rule hit is the title of another chapter, named in brackets after its number."""
    return bool(CROSS_REFERENCE_RE.search(text[max(0, ev.start - 120):ev.start])) and ")" in text[ev.end:ev.end + 80]


def _passing(text: str, ev: Evidence) -> str | None:
    """How a hit names its subject in passing, if it does: a list item, a recital, the title of a chapter
    referred to, a qualifier just before it, or an item of a saving clause's list."""
    if _in_recital(text, ev):
        return "recital"
    if SAVING_LIST_RE.search(text[:ev.start]):
        return "saving list"
    if _listed(text, ev) or _enumerated_item(text, ev):
        return "list item"
    if _cross_reference(text, ev):
        return "cross-reference"
    return "qualifier" if QUALIFIER_RE.search(text[:ev.start]) else None


PAIR_RE = re.compile(r"\s(?:or|and)\s")
INCLUSION_RE = re.compile(r"\s*(?:including|in particular|such as|notably|especially)\b")
CLAUSE_PART_RE = re.compile(r"\s*(?:of|in|for|to|with|by|from|on|at|upon|under|within|through|either|including|which|who|"
                            r"whose|where|when|if|unless|provided|whether|that|as|inter alia)\b", re.I)


def _listed(text: str, ev: Evidence) -> bool:
    """Whether a rule hit is a short item of a comma-separated list of three or more (the first item
    may carry the list's lead-in: "related to data privacy, consumer confidence, cybersecurity")."""
    if "," in text[ev.start:ev.end]:
        return False  # the hit spans the commas ("keep in Chile, for five years, copies"): it is no item
    lo = max(text.rfind(c, 0, ev.start) for c in ";:")
    hi = min([i for i in (text.find(c, ev.end) for c in ";:") if i >= 0] or [len(text)])
    items = list(re.finditer(r"[^,]+", text[lo + 1:hi]))
    # "A, B or C": the last item's "or" / "and" makes a third (not in "A, including B and C")
    pair = bool(items) and PAIR_RE.search(items[-1].group()) and not INCLUSION_RE.match(items[-1].group())
    # "the transfer of information, including personal information, when ...": an example in passing
    own = next((item for item in items[1:] if lo + 1 + item.start() <= ev.start < lo + 1 + item.end()), None)
    if own and INCLUSION_RE.match(own.group()) and len(own.group().split()) <= 6:
        return True
    # "notify applicants for temporary entry, either directly or through ..., of the outcome": commas that
    # set off a phrase opening with a preposition or an adverb part a clause; they do not list things
    parallel = [item for item in items[1:] if not CLAUSE_PART_RE.match(item.group())]
    if len(parallel) + 1 < 3 - bool(pair):
        return False
    for k, item in enumerate(items):
        a, b = lo + 1 + item.start(), lo + 1 + item.end()
        if a <= ev.start < b:
            if k == 0:
                return len(text[ev.start:b].split()) <= 6
            # "..., personal privacy or the financial affairs of customers": the hit's own member of the
            # item's "or" / "and" pair
            before = PAIR_RE.split(text[a:ev.start])[-1]
            after = PAIR_RE.split(text[ev.end:b])[0]
            return len(f"{before}{text[ev.start:ev.end]}{after}".split()) <= 6
    return False


QUALIFIER_REACH = 8  # tokens after a shall within which a qualifier still scopes its verb
QUALIFIER_LEAD = 16  # tokens before it ("Each Party, where possible and as its laws permit, shall")
TIME_LIMIT_WORDS = {"within", "before", "prior", "no", "not"}


def _scopes(doc, a: int, b: int, qualifier: tuple[int, int], triggers) -> bool:
    """Whether a practicability qualifier scopes the duty of the trigger doc[a:b]: it stands before the
    trigger or after it, in the same clause (no `;` and no other trigger between), within a few tokens.
    One followed by a time limit ("whenever possible within seven days", "to the extent possible,
    within 48 hours") or a language ("as far as practicable in English") softens that detail, not the
    duty."""
    qa, qb = qualifier
    if a - QUALIFIER_LEAD <= qb <= a:
        between = doc[qb:a]
    elif b - 1 <= qa <= b + QUALIFIER_REACH:
        between = doc[b:qa]
    else:
        return False
    if any(t.text == ";" for t in between) or any(between.start <= m[1] < between.end for m in triggers):
        return False
    following = [t.lower_ for t in doc[qb:qb + 4] if not t.is_punct]
    return not (following and (following[0] in TIME_LIMIT_WORDS or following[:2] == ["in", "english"]))


RELATIVE_PRONOUNS = {"which", "that", "who", "whom"}
# "should the Party fail to ...": an inverted condition, whose subject follows "should"
INVERSION_SUBJECTS = {"the", "a", "an", "any", "such", "this", "these", "that", "those", "there", "it", "they",
                      "either", "neither", "no", "one", "both", "all", "each"}


def _inert(doc, a: int, b: int) -> bool:
    """A trigger word that places nothing: "as the case may be", "as may be agreed", an inverted
    condition ("Should the examination reveal ...", "should the Party fail to ..."), "with the aim to"."""
    word, before = doc[a].lower_, doc[a - 1].lower_ if a else ""
    after = doc[b].lower_ if b < len(doc) else ""
    if word == "may" and (doc[max(a - 2, 0):a].text.lower() == "the case" or (before == "as" and after == "be")):
        return True
    if doc[a].text == "May" and b - a == 1 and a != _sentence_start(doc, a):  # the month ("signed on 3 May 2001")
        return True
    if word == "should" and b - a == 1 and (a == _sentence_start(doc, a) or after in INVERSION_SUBJECTS):
        return True
    return word == "aim" and before in {"the", "an"} and a + 1 < len(doc) and doc[a + 1].lower_ == "to"


def _main_clause(doc, start: int, first: int) -> int | None:
    """Token index where the main clause of a sentence opening on a recital, condition or purpose begins:
    a comma followed by a subject, or a colon before any trigger."""
    return next((k for k in range(start + 1, len(doc) - 1) if (doc[k].text == ":" and k < first)
                 or (doc[k].text == "," and doc[k + 1].lower_ in MAIN_SUBJECTS)), None)


def _sentence_start(doc, i: int) -> int:
    """Token index where the sentence holding token i begins."""
    k = i
    while k > 0 and not (doc[k - 1].text == "." and (doc[k].is_title or doc[k].is_upper)):
        k -= 1
    return k


class Analyser:
    """Holds the compiled spaCy matchers; build once, call `analyse_document` many times.

    `similarity`: None loads the model lazily when first needed, False never uses it (rules only).
    """

    def __init__(self, patterns_path: Path = PATTERNS, similarity: bool | None = None):
        import spacy
        from spacy.matcher import Matcher, PhraseMatcher

        cfg = tomllib.loads(patterns_path.read_text(encoding="utf-8"))
        self.cfg = cfg
        self.use_similarity = similarity is not False
        self.decision = cfg["topic_decision"]
        self.nlp = spacy.blank("en")
        ruler = self.nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
        ruler.add_patterns([{"label": p["label"], "pattern": p["pattern"]} for p in cfg["laws"]])
        self.topics = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.topic_mentions = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.topic_patterns = Matcher(self.nlp.vocab)
        self.topic_mention_patterns = Matcher(self.nlp.vocab)
        for name, spec in cfg["topics"].items():
            self.topics.add(name, list(self.nlp.tokenizer.pipe(spec["phrases"])))
            if spec.get("mentions"):
                self.topic_mentions.add(name, list(self.nlp.tokenizer.pipe(spec["mentions"])))
            vocabulary = spec.get("vocabulary", {})
            if spec.get("patterns"):
                self.topic_patterns.add(name, _with_vocabulary(spec["patterns"], vocabulary))
            if spec.get("mention_patterns"):
                self.topic_mention_patterns.add(name, _with_vocabulary(spec["mention_patterns"], vocabulary))
        self.strength = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        for name in STRENGTH_CLASSES + ("qualifiers",):
            self.strength.add(name, list(self.nlp.tokenizer.pipe(cfg["strength"][name])))
        self.strength_regex = [(name, re.compile(rx)) for name, rxs in cfg["strength"]["regex"].items() for rx in rxs]
        self.stances = set(cfg["strength"]["stances"])
        self.strength_order = cfg["strength"]["order"]
        self.recitals = set(cfg["strength"]["recitals"])
        self.exceptions = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        for name, phrases in cfg["exceptions"].items():
            self.exceptions.add(name, list(self.nlp.tokenizer.pipe(phrases)))
        self.countries = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        names = country_name_map()
        for code in sorted(set(names.values())):
            self.countries.add(code, list(self.nlp.tokenizer.pipe([n for n, c in names.items() if c == code])))

    @property
    def similarity(self) -> TopicSimilarity | None:
        return topic_similarity() if self.use_similarity else None

    # ---- single texts

    def title_topics(self, title: str) -> list[Evidence]:
        """Topics a short text (a heading, a search query) names by a rule phrase or mention."""
        if not title:
            return []
        doc = self.nlp.make_doc(title)
        found = self._spans(self.topics, doc, self.topic_patterns)
        seen = {e.label for e in found}
        return found + [e for e in self._spans(self.topic_mentions, doc) if e.label not in seen]

    def analyse_clause(self, clause: Clause, doc=None, title: str = "") -> Clause:
        """Strength, exceptions, entities and topics of one paragraph (read with its article title)."""
        doc = doc if doc is not None else self.nlp(clause.text)
        clause.exceptions = self._spans(self.exceptions, doc)
        clause.strength, clause.strength_evidence = self._strength(doc)
        self._entities(clause, doc)
        self._decide_topics([self._paragraph(clause, doc, title)])
        return clause

    def _spans(self, matcher: PhraseMatcher, doc, extra: Matcher | None = None,
               pass_over: Callable[[Evidence], bool] | None = None) -> list[Evidence]:
        """The first match of each label, as evidence; with `pass_over`, the first that it does not pass
        over, if any ("Annex XII (Reservations on Key Personnel), the Party shall allow key personnel")."""
        by_label: dict[str, list[Evidence]] = {}
        matches = list(matcher(doc)) + (list(extra(doc)) if extra is not None else [])
        for match_id, start, end in sorted(matches, key=lambda m: (m[1], -m[2])):
            span = doc[start:end]
            name = self.nlp.vocab.strings[match_id]
            by_label.setdefault(name, []).append(Evidence(name, span.text, span.start_char, span.end_char))
        chosen = [next((e for e in evs if not pass_over(e)), evs[0]) if pass_over else evs[0]
                  for evs in by_label.values()]
        return sorted(chosen, key=lambda e: e.start)

    def _strength(self, doc) -> tuple[str, str]:
        """Obligation strength and its trigger phrase: the paragraph's lead operative sentence decides
        (see the rules in patterns/analysis.toml)."""
        name, a, b = self._strength_span(doc)
        return name, doc[a:b].text

    def operative_sentence(self, text: str) -> str:
        """The sentence whose trigger decided the paragraph's strength ("" when no rule fired)."""
        doc = self.nlp(text)
        name, a, _ = self._strength_span(doc)
        if not name:
            return ""
        starts = self._sentence_starts(doc)
        lo = max(s for s in starts if s <= a)
        return doc[lo:next((s for s in starts if s > a), len(doc))].text

    def _strength_span(self, doc) -> tuple[str, int, int]:
        """Obligation strength by the rules and the token span of its trigger (empty when none)."""
        matches = [(self.nlp.vocab.strings[m], a, b) for m, a, b in self.strength(doc)]
        for name, rx in self.strength_regex:
            for m in rx.finditer(doc.text):
                if span := doc.char_span(m.start(), m.end(), alignment_mode="expand"):
                    matches.append((name, span.start, span.end))
        matches = [m for m in matches if not _inert(doc, m[1], m[2])]
        statuses = [m for m in matches if m[0] == "non_binding_status"]
        if status := min(statuses, key=lambda m: (m[1], m[1] - m[2]), default=None):
            return "non_binding", status[1], status[2]
        qualifiers = [(a, b) for name, a, b in matches if name == "qualifiers"]
        sentences = self._sentence_starts(doc)
        decided: list[tuple[str, int, int]] = []
        for lo, hi in zip(sentences, sentences[1:] + [len(doc)]):
            found = self._sentence_class([m for m in matches if lo <= m[1] < hi and m[0] != "qualifiers"], qualifiers, doc)
            if found:
                decided.append(found)
        if not decided:
            return "", 0, 0
        lead = next((d for d in decided if not (d[0] == "hortatory" and doc[d[1]:d[2]].text.lower() in self.recitals)),
                    decided[0])
        name, a, b = lead
        if name == "descriptive":
            # "The Parties recognise the importance of X. Cooperation shall include: ...": the recital is
            # all the paragraph says of the Parties' stance
            recital = next((d for d in decided if d[0] == "hortatory"), None)
            return recital if recital else ("", 0, 0)
        if name == "exception" and doc[a:b].text.lower() == "may" and MOU_PARTIES_RE.search(doc.text):
            return "non_binding", a, b  # a participant's option under an MoU carves out nothing
        return name, a, b

    @staticmethod
    def _sentence_starts(doc) -> list[int]:
        """Token indexes where sentences begin: after a full stop followed by a capital or an opening."""
        starts = [0]
        for i in range(1, len(doc) - 1):
            if doc[i].text == "." and (doc[i + 1].is_title or doc[i + 1].is_upper) and len(doc[i - 1]) > 2:
                starts.append(i + 1)
        return starts

    def _sentence_class(self, triggers, qualifiers, doc) -> tuple[str, int, int] | None:
        """One sentence's class with its governing trigger (token span); triggers inside a leading
        participial recital ("Recognising that each Party may ..., each Party shall") do not count."""
        if triggers:
            start = _sentence_start(doc, min(m[1] for m in triggers))
            if doc[start].lower_ in RECITAL_OPENERS:
                main = _main_clause(doc, start, min(m[1] for m in triggers))
                if main is not None and any(m[1] > main for m in triggers):  # none left: the boundary was wrong
                    triggers = [m for m in triggers if m[1] > main]
        # "a Party which intends to ...", "measures that may be necessary": a relative clause binds no one
        # ("agree that nothing in ... requires": a "that" before "nothing" opens what was agreed)
        triggers = [m for m in triggers if not (m[1] > 0 and doc[m[1] - 1].lower_ in RELATIVE_PRONOUNS
                                                and doc[m[1]].lower_ != "nothing")]
        triggers = sorted(triggers, key=lambda m: (m[1], -(m[2] - m[1])))
        governing: list[tuple[str, int, int]] = []
        for name, a, b in triggers:  # the earliest, then longest, trigger governs an overlap
            if governing and a < governing[-1][2]:
                continue
            # "shall, where possible, apply"; also "Whenever possible, the panel shall comprise the same
            # members": a description does not take a practicability qualifier, a soft duty does
            if name == "binding" or doc[a:b].text.lower() == "should" or (
                    name == "descriptive" and doc[a].lower_ == "shall"):
                if any(_scopes(doc, a, b, q, triggers) for q in qualifiers):
                    name = "best_endeavour"
            governing.append((name, a, b))
        if not governing:
            return None
        if len(governing) > 1 and doc[governing[0][1]:governing[0][2]].text.lower() in FRAMES:
            governing = governing[1:]  # "agree that X shall, to the extent possible, ...": the shall decides
        lead = doc[governing[0][1]:governing[0][2]].text.lower()
        if lead not in self.recitals or lead in self.stances:
            return governing[0]  # the lead verb decides: a proviso's "shall" does not harden "shall endeavour"
        for wanted in self.strength_order:  # "The Parties recognise ... and shall ...": the commitment decides
            for g in governing:
                if g[0] == wanted:
                    return g
        return None

    def _document_strength(self, articles: list[Article], kind: str) -> None:
        """Document context: in an instrument that disclaims legal effect (an MoU or JDI with a status
        clause) every operative paragraph is non-binding; in a treaty, "will" with a definite act binds
        and "will endeavour" is best endeavour."""
        clauses = [c for art in articles for c in art.clauses]
        if kind_family(kind) in ("MoU", "JDI"):
            if any(DISCLAIMER_RE.search(c.text) for c in clauses):
                for c in clauses:
                    if c.strength:
                        c.strength = "non_binding"
            return
        for c in clauses:
            if c.strength == "non_binding" and c.strength_evidence.lower() in TREATY_WILL:
                c.strength = TREATY_WILL[c.strength_evidence.lower()]

    # ---- topics of paragraphs

    def _paragraph(self, clause: Clause, doc, title: str) -> _Paragraph:
        """Rule evidence per topic for one paragraph. An operative phrase named in passing (a short item
        of a list, the recital opening its sentence, a passing qualifier such as "subject to its laws on
        privacy") counts as a mention; one inside a defined term counts as nothing."""
        para = _Paragraph(clause, title)
        definition = DEFINITION_RE.match(clause.text)
        term_end = max(definition.end("term"), definition.end("bare")) if definition else -1
        para.refers_elsewhere = bool(REFERRAL_RE.match(clause.text))
        for ev in self._spans(self.topics, doc, self.topic_patterns, lambda e: _cross_reference(clause.text, e)):
            if ev.start >= term_end:
                passing = "referral" if para.refers_elsewhere else _passing(clause.text, ev)
                (para.mentions if passing else para.phrases)[ev.label] = ev
                if passing in CLASSIFIER_BARRED_PASSING:
                    para.passing.add(ev.label)
        for ev in self._spans(self.topic_mentions, doc, self.topic_mention_patterns):
            if ev.start >= term_end and ev.label not in para.phrases and ev.label not in para.mentions:
                para.mentions[ev.label] = ev
        para.definitions = (bool(definition) or len(DEFINED_TERM_RE.findall(clause.text)) >= 2
                            or len(LISTED_DEFINITION_RE.findall(clause.text)) >= 2
                            or bool(GLOSSARY_LEAD_RE.search(clause.text[:200])))
        return para

    def _decide_topics(self, paragraphs: list[_Paragraph]) -> None:
        """Set each clause's topics, with the evidence that decided them."""
        self._score(paragraphs)
        for p in paragraphs:
            p.clause.topics = self.paragraph_topics(p)

    def _score(self, paragraphs: list[_Paragraph]) -> None:
        """Similarity of every gated paragraph piece to the exemplars, in one embedding batch."""
        sim = self.similarity
        if sim is None:
            return
        requests: dict[str, None] = {}
        for p in paragraphs:
            if p.definitions:
                continue
            text = titled(p.title, p.clause.text).lower()
            p.similarity_gated = sim.gate(text) | ({*p.phrases, *p.mentions} & set(MISSION_TOPICS))
            p.gated = p.similarity_gated | sim.gate(text, classifier=True)
            if p.gated:
                p.pieces = [titled(p.title, piece) for piece in _pieces(p.clause.text)]
                requests.update(dict.fromkeys(p.pieces))
        texts = list(requests)
        scored = dict(zip(texts, sim.scores(texts)))
        for p in paragraphs:
            p.scores = [scored[x] for x in p.pieces]

    def paragraph_topics(self, p: _Paragraph) -> list[Evidence]:
        """A paragraph's topics with the evidence that decided each. Mission topics need an operative
        phrase, a mention or no rule at all, each with a higher similarity to our exemplars, and no
        near miss closer than the best exemplar; failing that, the learned classifier's probability
        (for wordings no rule or exemplar anticipates). Without the model, operative phrases decide."""
        out: list[Evidence] = [e for t, e in p.phrases.items() if t not in MISSION_TOPICS]
        if p.definitions:
            return out
        if self.similarity is None:
            return [e for t, e in p.phrases.items() if t in MISSION_TOPICS] + out
        for topic in MISSION_TOPICS:
            if topic not in p.gated or not p.scores:
                continue
            d = self.decision[topic]
            pos = max(s[topic][0] for s in p.scores)
            learned = max(s[topic][4] for s in p.scores)
            lead = max(s[topic][2] for s in p.scores) - pos - d["veto_margin"]  # of the closest near miss
            vetoed = lead > 0
            # a near miss narrowly closer than the best exemplar is a tie the similarity cannot break: the
            # classifier, which also reads the words, may break it when confident (topics with a near_miss_tie)
            tie_broken = lead <= d.get("near_miss_tie", 0.0) and learned >= d.get("classifier_over_near_miss", 1.0)
            if vetoed and not tie_broken:
                continue  # a near miss fits the paragraph better than the topic's best exemplar
            found = self._similar(p, topic) if topic in p.similarity_gated and not vetoed else []
            # the topic's own phrase sits in the recital or a saving clause's list (CLASSIFIER_BARRED_PASSING):
            # the paragraph is about something else, whatever its gist
            if (not found and learned >= d["classifier"] and topic not in p.passing and not p.refers_elsewhere
                    and not self._exception_ground(p, topic)
                    and self.similarity.classifier_may_decide(topic, p.clause.text)):
                found = [Evidence(topic, f"classifier {learned:.2f}")]
            out += found
        return out

    @staticmethod
    def _exception_ground(p: _Paragraph, topic: str) -> bool:
        """Whether the topic's rule hit is one ground in the list of a carve-out ("shall not prevent measures:
        ...; necessary to protect the privacy of individuals ...; safety"). docs/topics.md does not count a topic
        named as one ground among others, so the classifier, which reads the list's gist, may not decide it;
        rules with similarity still may (a financial carve-out keeping the right to protect personal data counts)."""
        ev = p.phrases.get(topic) or p.mentions.get(topic)
        if ev is None or p.clause.strength != "exception":
            return False
        text = p.clause.text
        colon = text.rfind(":", 0, ev.start)
        return colon >= 0 and len(GROUND_SPLIT_RE.split(text[colon + 1:])) >= 3

    def _similar(self, p: _Paragraph, topic: str) -> list[Evidence]:
        """Evidence for a topic from rules confirmed by similarity, or from similarity alone."""
        d = self.decision[topic]
        pos, pos_id = max(s[topic][:2] for s in p.scores)
        similarity = Evidence(topic, f"similarity {pos:.2f} to {pos_id}")
        if topic in p.phrases and pos >= d["with_phrase"]:
            return [p.phrases[topic]]
        if topic in p.mentions and pos >= d["with_mention"]:
            return [p.mentions[topic], similarity]
        return [similarity] if pos >= d["alone"] else []

    # ---- articles and documents

    def prepare_articles(self, articles: list[Article]) -> list[list[_Paragraph]]:
        """Strength, exceptions, entities and rule evidence of every clause, and the similarity of all
        gated paragraphs in one embedding batch; topics are decided by `paragraph_topics`."""
        prepared: list[list[_Paragraph]] = []
        for art in articles:
            if not art.clauses:
                art.clauses = [Clause(text=art.text, page=art.page_start)]
            paragraphs = []
            for clause, doc in zip(art.clauses, self.nlp.pipe([c.text for c in art.clauses], batch_size=256)):
                clause.exceptions = self._spans(self.exceptions, doc)
                clause.strength, clause.strength_evidence = self._strength(doc)
                self._entities(clause, doc)
                paragraphs.append(self._paragraph(clause, doc, art.article_title))
            prepared.append(paragraphs)
        self._score([p for paragraphs in prepared for p in paragraphs])
        return prepared

    def analyse_articles(self, articles: list[Article], kind: str = "") -> list[Article]:
        """Analyse many articles (of one document of this `kind`) at once; an article's topics are
        those of its paragraphs."""
        prepared = self.prepare_articles(articles)
        self._document_strength(articles, kind)
        for art, paragraphs in zip(articles, prepared):
            for p in paragraphs:
                p.clause.topics = self.paragraph_topics(p)
            self._link_footnote_exceptions(art)
        self._chapter_context(articles, prepared)
        for art in articles:
            art.topics = sorted({e.label for c in art.clauses for e in c.topics})
        return articles

    @staticmethod
    def _chapter_context(articles: list[Article], prepared: list[list["_Paragraph"]]) -> None:
        """A paragraph that applies "this Chapter" (general obligations, transparency, consultations,
        dispute settlement of a temporary-entry chapter) takes a mission topic that most of the other
        articles of its chapter carry in their own words (counted before any context is added, so the
        order of the articles does not matter); definitions never do."""
        chapters: dict[tuple, list[tuple[Article, list[_Paragraph]]]] = {}
        for art, paragraphs in zip(articles, prepared):
            if art.unit == "article" and (art.chapter_number or art.chapter_title):
                chapters.setdefault((art.instrument, art.chapter_number, art.chapter_title), []).append((art, paragraphs))
        for members in chapters.values():
            own = [{e.label for c in art.clauses for e in c.topics} for art, _ in members]
            totals = {t: sum(t in o for o in own) for t in MISSION_TOPICS}
            others = len(members) - 1
            for (art, paragraphs), mine in zip(members, own):
                for topic in MISSION_TOPICS:
                    on_topic = totals[topic] - (topic in mine)
                    if on_topic < CHAPTER_CONTEXT_MIN or on_topic < CHAPTER_CONTEXT_SHARE * others:
                        continue
                    for p in paragraphs:
                        c = p.clause
                        if (not p.definitions and CHAPTER_REF_RE.search(c.text) and c.strength
                                and not any(e.label == topic for e in c.topics)):
                            c.topics.append(Evidence(topic, f"chapter context: {on_topic} of {others} articles"))

    def analyse_article(self, art: Article, kind: str = "") -> Article:
        return self.analyse_articles([art], kind)[0]

    def _entities(self, clause: Clause, doc) -> None:
        entities = [Evidence("LAW", e.text, e.start_char, e.end_char) for e in doc.ents if len(e) > 1]
        for code in dict.fromkeys(self.nlp.vocab.strings[m] for m, _, _ in self.countries(doc)):
            entities.append(Evidence("COUNTRY", code))
        for m in DATE_RE.finditer(clause.text):
            entities.append(Evidence("DATE", m.group(0), m.start(), m.end()))
        clause.entities = entities

    def _link_footnote_exceptions(self, art: Article) -> None:
        """Carve-outs in footnotes (`X shall not be obliged to apply this paragraph ...`) qualify the
        clause whose marker cites the footnote (the first clause when no marker was found)."""
        for note in art.footnotes:
            found = self._spans(self.exceptions, self.nlp.make_doc(note))
            if not found:
                continue
            number = note.split(maxsplit=1)[0] if note[:1].isdigit() else ""
            target = next((c for c in art.clauses if number and number in c.footnote_refs), art.clauses[0])
            for ev in found:
                target.exceptions.append(Evidence(ev.label, f"footnote {number}: {ev.phrase}".strip(), 0, 0))

    def analyse_document(self, document: Document) -> Document:
        """Analyse the articles and annexes; long tables (tariff schedules) carry no clauses to read."""
        self.analyse_articles([a for a in document.articles if a.unit != "table"], document.kind)
        return document


@lru_cache(maxsize=1)
def default_analyser() -> Analyser:
    return Analyser()


def analyse(document: Document) -> Document:
    """Fill topics, strength, exceptions and entities on every clause and article of a document."""
    return default_analyser().analyse_document(document)
