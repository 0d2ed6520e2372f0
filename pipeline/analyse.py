"""Clause analysis with spaCy: topics with evidence, obligation strength, exceptions, entities.

The fast path is `spacy.blank("en")` plus lexical rules (PhraseMatcher / Matcher / EntityRuler
patterns in `patterns/analysis.toml`): no tagger is needed, so nothing here depends on POS tags.
"""
from __future__ import annotations

import re
import tomllib
from collections import Counter
from functools import lru_cache
from pathlib import Path

import spacy
from spacy.matcher import Matcher, PhraseMatcher

from .countries import country_name_map
from .models import Article, Clause, Document, Evidence

PATTERNS = Path(__file__).with_name("patterns") / "analysis.toml"
MISSION_TOPICS = ("data_flows", "data_localisation", "privacy", "it_mobility")
STRENGTH_CLASSES = ("non_binding_status", "best_endeavour", "binding", "non_binding", "hortatory")
DATE_RE = re.compile(
    r"\b(\d{1,2}\s+(January|February|March|April|May|June|July|August|September|October|November|December)\s+\d{4}|"
    r"(January|February|March|April|May|June|July|August|September|October|November|December)\s+\d{1,2},\s+\d{4})\b")


class Analyser:
    """Holds the compiled spaCy matchers; build once, call `analyse_document` many times."""

    def __init__(self, patterns_path: Path = PATTERNS):
        cfg = tomllib.loads(patterns_path.read_text(encoding="utf-8"))
        self.cfg = cfg
        self.nlp = spacy.blank("en")
        ruler = self.nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
        ruler.add_patterns([{"label": p["label"], "pattern": p["pattern"]} for p in cfg["laws"]])
        self.topics = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.topic_patterns = Matcher(self.nlp.vocab)
        for name, spec in cfg["topics"].items():
            self.topics.add(name, list(self.nlp.tokenizer.pipe(spec["phrases"])))
            if spec.get("patterns"):
                self.topic_patterns.add(name, spec["patterns"])
        self.strength = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        for name in STRENGTH_CLASSES + ("qualifiers",):
            self.strength.add(name, list(self.nlp.tokenizer.pipe(cfg["strength"][name])))
        self.strength_patterns = Matcher(self.nlp.vocab)
        self.strength_patterns.add("best_endeavour", cfg["strength"]["best_endeavour_patterns"])
        self.strength_order = cfg["strength"]["order"]
        self.min_mentions = cfg["article_topics"]["min_mentions"]
        self.min_mentions_mou = cfg["article_topics"]["min_mentions_mou"]
        self.exceptions = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        for name, phrases in cfg["exceptions"].items():
            self.exceptions.add(name, list(self.nlp.tokenizer.pipe(phrases)))
        self.topic_title_re = {n: re.compile(s["title"], re.I) for n, s in cfg["topics"].items() if "title" in s}
        self.topic_not_title_re = {n: re.compile(s["not_title"], re.I) for n, s in cfg["topics"].items()
                                   if "not_title" in s}
        self.topic_chapter_re = {n: re.compile(s["chapter"], re.I) for n, s in cfg["topics"].items() if "chapter" in s}
        self.countries = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        names = country_name_map()
        for code in sorted(set(names.values())):
            self.countries.add(code, list(self.nlp.tokenizer.pipe([n for n, c in names.items() if c == code])))

    # ---- single texts

    def title_topics(self, title: str) -> list[Evidence]:
        """Topics named by a heading (an article title or chapter title)."""
        if not title:
            return []
        doc = self.nlp.make_doc(title)
        found = {}
        for match_id, start, end in self.topics(doc):
            name = self.nlp.vocab.strings[match_id]
            found.setdefault(name, Evidence(name, doc[start:end].text, doc[start:end].start_char, doc[start:end].end_char))
        for name, rx in self.topic_title_re.items():
            if name not in found and (m := rx.search(title)):
                found[name] = Evidence(name, m.group(0), m.start(), m.end())
        for name, rx in self.topic_not_title_re.items():
            if rx.search(title):
                found.pop(name, None)
        return list(found.values())

    def analyse_clause(self, clause: Clause, doc=None) -> Clause:
        doc = doc if doc is not None else self.nlp(clause.text)
        clause.topics = self._spans(self.topics, doc, self.topic_patterns)
        clause.exceptions = self._spans(self.exceptions, doc)
        clause.strength, clause.strength_evidence = self._strength(doc)
        entities = [Evidence("LAW", e.text, e.start_char, e.end_char) for e in doc.ents if len(e) > 1]
        for code in dict.fromkeys(self.nlp.vocab.strings[m] for m, _, _ in self.countries(doc)):
            entities.append(Evidence("COUNTRY", code))
        for m in DATE_RE.finditer(clause.text):
            entities.append(Evidence("DATE", m.group(0), m.start(), m.end()))
        clause.entities = entities
        return clause

    def _spans(self, matcher: PhraseMatcher, doc, extra: Matcher | None = None) -> list[Evidence]:
        """The first match of each label, as evidence."""
        out: list[Evidence] = []
        seen: set[str] = set()
        matches = list(matcher(doc)) + (list(extra(doc)) if extra is not None else [])
        for match_id, start, end in sorted(matches, key=lambda m: (m[1], -m[2])):
            name = self.nlp.vocab.strings[match_id]
            if name in seen:
                continue
            seen.add(name)
            span = doc[start:end]
            out.append(Evidence(name, span.text, span.start_char, span.end_char))
        return out

    def _strength(self, doc) -> tuple[str, str]:
        """Obligation strength and its trigger phrase (see the rules in patterns/analysis.toml)."""
        matches = [(self.nlp.vocab.strings[m], a, b) for m, a, b in self.strength(doc)]
        matches += [(self.nlp.vocab.strings[m], a, b) for m, a, b in self.strength_patterns(doc)]
        qualifiers = [(a, b) for name, a, b in matches if name == "qualifiers"]
        triggers = sorted((m for m in matches if m[0] != "qualifiers"), key=lambda m: (m[1], -(m[2] - m[1])))
        governing: list[tuple[str, int, int]] = []
        for name, a, b in triggers:  # the earliest, then longest, trigger governs an overlap
            if governing and a < governing[-1][2]:
                continue
            if name == "binding" and any(b - 1 <= qa <= b + 1 or a - 4 <= qb <= a for qa, qb in qualifiers):
                name = "best_endeavour"
            governing.append((name, a, b))
        for wanted in self.strength_order:
            for name, a, b in governing:
                if name == wanted:
                    return ("non_binding" if name == "non_binding_status" else name), doc[a:b].text
        return "", ""

    # ---- articles and documents

    def analyse_article(self, art: Article, kind: str = "") -> Article:
        if not art.clauses:
            art.clauses = [Clause(text=art.text, page=art.page_start)]
        texts = [c.text for c in art.clauses]
        mentions: Counter[str] = Counter()
        for clause, doc in zip(art.clauses, self.nlp.pipe(texts, batch_size=256)):
            self.analyse_clause(clause, doc)
            mentions.update(self.nlp.vocab.strings[m] for m, _, _ in self.topics(doc))
            mentions.update(self.nlp.vocab.strings[m] for m, _, _ in self.topic_patterns(doc))
        self._link_footnote_exceptions(art)
        topics = {e.label for e in self.title_topics(art.article_title)}
        topics |= {n for n, rx in self.topic_chapter_re.items() if art.chapter_title and rx.search(art.chapter_title)}
        # A passing mention (a definition, an exceptions list) does not make an article about a topic;
        # MoU / JDI articles are short lists of cooperation areas, where one mention is the subject.
        need = self.min_mentions_mou if kind in ("MoU", "JDI") else self.min_mentions
        topics |= {t for t, n in mentions.items() if n >= need}
        art.topics = sorted(topics)
        return art

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
        for art in document.articles:
            self.analyse_article(art, document.kind)
        return document


@lru_cache(maxsize=1)
def default_analyser() -> Analyser:
    return Analyser()


def analyse(document: Document) -> Document:
    """Fill topics, strength, exceptions and entities on every clause and article of a document."""
    return default_analyser().analyse_document(document)
