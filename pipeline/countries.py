"""Country names and codes → ISO-3166 alpha-3, from pycountry plus everyday variants."""
from __future__ import annotations

import re
from functools import lru_cache

import pycountry

# Everyday names that ISO-3166 spells otherwise; the rest comes from pycountry.
EXTRA_NAMES = {
    "korea": "KOR", "south korea": "KOR", "republic of korea": "KOR", "viet nam": "VNM", "vietnam": "VNM",
    "lao pdr": "LAO", "laos": "LAO", "russia": "RUS", "iran": "IRN", "syria": "SYR", "bolivia": "BOL",
    "venezuela": "VEN", "tanzania": "TZA", "moldova": "MDA", "brunei": "BRN", "taiwan": "TWN",
    "hong kong, china": "HKG", "hong kong": "HKG", "macao": "MAC", "czech republic": "CZE", "turkey": "TUR",
    "united states of america": "USA", "united states": "USA", "united kingdom": "GBR", "uae": "ARE",
    "great britain": "GBR", "swiss confederation": "CHE", "the netherlands": "NLD", "burma": "MMR",
    "chinese taipei": "TWN", "macau": "MAC", "palestine": "PSE", "palestinian authority": "PSE",
    "ivory coast": "CIV", "cape verde": "CPV", "swaziland": "SWZ", "east timor": "TLS", "kirghiz republic": "KGZ",
    "slovak republic": "SVK", "republic of china": "TWN",
    "cote d'ivoire": "CIV", "guinea bissau": "GNB", "western samoa": "WSM", "king of the belgians": "BEL",
    "former yugoslav republic of macedonia": "MKD", "macedonia": "MKD", "hellenic republic": "GRC", "faeroe islands": "FRO",
}
# The everyday short names papers use in citations (`Korea–Chile FTA`, `India–UAE CEPA`); else pycountry's.
SHORT_NAMES = {
    "KOR": "Korea", "PRK": "DPRK", "ARE": "UAE", "USA": "US", "GBR": "UK", "RUS": "Russia", "IRN": "Iran",
    "VNM": "Viet Nam", "LAO": "Lao PDR", "TWN": "Chinese Taipei", "HKG": "Hong Kong, China", "BOL": "Bolivia",
    "VEN": "Venezuela", "TZA": "Tanzania", "MDA": "Moldova", "SYR": "Syria", "BRN": "Brunei", "PSE": "Palestine",
    "MKD": "North Macedonia", "CZE": "Czechia", "TUR": "Türkiye",
}


@lru_cache(maxsize=1)
def country_name_map() -> dict[str, str]:
    """Lower-case country name → ISO-3, from pycountry (plus everyday variants)."""
    names: dict[str, str] = {}
    heads: dict[str, set[str]] = {}
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            v = getattr(c, attr, None)
            if v:
                names[v.lower()] = c.alpha_3
                if ", " in v:  # "Korea, Republic of" → "Republic of Korea"
                    head, tail = v.split(", ", 1)
                    names[f"{tail} {head}".lower()] = c.alpha_3
                    heads.setdefault(head.lower(), set()).add(c.alpha_3)
    for head, codes in heads.items():  # "Bolivia, Plurinational State of" → "Bolivia" when unambiguous
        if len(codes) == 1 and head not in names:
            names[head] = next(iter(codes))
    names.update(EXTRA_NAMES)
    return names


@lru_cache(maxsize=1)
def country_names() -> list[tuple[re.Pattern, str]]:
    """Country-name patterns, longest first."""
    items = sorted(country_name_map().items(), key=lambda kv: -len(kv[0]))
    return [(re.compile(r"\b" + re.escape(n) + r"\b", re.IGNORECASE), code) for n, code in items]


# names that contain a country's name but do not refer to the country
NOT_A_PARTY_RE = re.compile(r"\bUruguay Round\b", re.IGNORECASE)


def country_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, ISO-3) of every country name in `text`, longest names first, in text order."""
    text = NOT_A_PARTY_RE.sub(lambda m: "#" * len(m.group()), text.replace("’", "'"))  # `Lao People’s ...`
    taken: list[tuple[int, int, str]] = []
    for pattern, code in country_names():
        for m in pattern.finditer(text):
            if not any(a < m.end() and m.start() < b for a, b, _ in taken):
                taken.append((m.start(), m.end(), code))
    return sorted(taken)


def find_countries(text: str) -> list[str]:
    """ISO-3 codes of the countries named in `text`, in order of first mention."""
    return list(dict.fromkeys(code for _, _, code in country_spans(text)))


def iso3(value: str) -> str | None:
    """A country name or code → ISO-3, or None."""
    v = value.strip()
    if re.fullmatch(r"[A-Za-z]{3}", v):
        c = pycountry.countries.get(alpha_3=v.upper())
        if c:
            return c.alpha_3
    if re.fullmatch(r"[A-Za-z]{2}", v):
        c = pycountry.countries.get(alpha_2=v.upper())
        if c:
            return c.alpha_3
    codes = find_countries(v)
    return codes[0] if len(codes) == 1 else None


def iso3_all(values: list, context: str, noun: str = "party") -> list[str]:
    """Every name or code → ISO-3; raises ValueError naming `context` and the first unknown value."""
    codes = []
    for value in values:
        code = iso3(str(value))
        if not code:
            raise ValueError(f"{context}: unknown {noun} {value!r} (use a country name or ISO-3 code)")
        codes.append(code)
    return codes


def country_short_name(code: str) -> str:
    """ISO-3 → the short name used in citations (`KOR` → `Korea`, `ARE` → `UAE`)."""
    if code in SHORT_NAMES:
        return SHORT_NAMES[code]
    c = pycountry.countries.get(alpha_3=code)
    if not c:
        return code
    return getattr(c, "common_name", None) or c.name.split(", ")[0]
