"""Small text helpers shared by the stages: line joining and heading case."""
from __future__ import annotations

import re

SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with", "from", "into",
               "between", "among", "concerning", "regarding"}
ACRONYMS = {"WTO", "GATT", "GATS", "TBT", "SPS", "SME", "SMES", "MFN", "APEC", "ASEAN", "TRIPS", "ICT", "IT", "EU", "EFTA", "CEPA", "FTA", "UNCITRAL"}


def heading_case(text: str) -> str:
    """`TRADE IN GOODS` → `Trade in Goods` (only for all-capitals titles)."""
    if not text.isupper():
        return text
    out = []
    for i, word in enumerate(text.split()):
        if i and word.lower() in SMALL_WORDS:
            out.append(word.lower())
            continue
        parts = [p if p.strip("(),:") in ACRONYMS else p[:1] + p[1:].lower() for p in word.split("-")]
        out.append("-".join(parts))
    return " ".join(out)


def join_lines(texts: list[str]) -> str:
    """Join text lines with spaces, repairing words hyphenated at a line end (`elec-` + `tronic`)."""
    out = ""
    for t in texts:
        t = t.strip()
        if not t:
            continue
        if out.endswith("-") and len(out) > 1 and out[-2].isalpha() and t[:1].islower():
            head = re.search(r"(\w+)-$", out)
            # keep the hyphen of a real compound (`cross-` + `border`), drop a typesetting break
            if head and head.group(1).lower() in COMPOUND_HEADS:
                out += t
            else:
                out = out[:-1] + t
        else:
            out = f"{out} {t}" if out else t
    return out


COMPOUND_HEADS = {
    "cross", "non", "self", "co", "multi", "inter", "intra", "pre", "post", "sub", "anti", "semi", "e", "so",
    "well", "long", "short", "small", "medium", "third", "end", "high", "low", "full", "part", "ex", "re",
    "two", "three", "four", "five", "six", "one", "first", "second", "tariff", "case", "follow", "in",
    "most", "favoured", "nation", "business", "government", "state", "country", "market", "state-owned",
    "decision", "policy", "time", "day", "year", "risk", "rule", "off", "on", "up", "out", "de",
}


