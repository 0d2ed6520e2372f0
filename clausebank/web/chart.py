"""A server-rendered SVG of the corpus over time: agreements signed per year (bars) and, per topic,
the articles that address it (a shaded grid), so coverage gaps show without any script."""
from __future__ import annotations

from collections import Counter
from xml.sax.saxutils import escape

LEFT, TOP, CELL_W, BAR_H, ROW_H = 190, 24, 56, 90, 26


def corpus_chart(documents: list[dict], topics_by_doc: dict[str, dict[str, int]], topics: list[str],
                 topic_names: dict[str, str]) -> str:
    """The SVG markup (text escaped) for documents with a signature year."""
    dated = [d for d in documents if (d.get("date_signed") or "")[:4].isdigit()]
    if not dated:
        return ""
    years = sorted({int(d["date_signed"][:4]) for d in dated})
    years = list(range(years[0], years[-1] + 1))
    agreements = Counter(int(d["date_signed"][:4]) for d in dated)
    coverage: Counter = Counter()
    for d in dated:
        for t, n in topics_by_doc.get(d["doc"], {}).items():
            coverage[(t, int(d["date_signed"][:4]))] += n
    width = LEFT + CELL_W * len(years) + 20
    grid_top = TOP + BAR_H + 40
    height = grid_top + ROW_H * len(topics) + 10
    most = max(agreements.values())
    most_cov = max(coverage.values(), default=1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-labelledby="chart-title" class="chart">',
             '<title id="chart-title">Agreements signed per year and articles per topic</title>',
             f'<text x="0" y="{TOP + 14}" class="label">Agreements signed</text>']
    for k, year in enumerate(years):
        x = LEFT + k * CELL_W
        n = agreements.get(year, 0)
        h = BAR_H * n / most
        parts.append(f'<rect x="{x + 12}" y="{TOP + BAR_H - h:.1f}" width="{CELL_W - 24}" height="{h:.1f}" '
                     f'class="bar"><title>{year}: {n} agreements</title></rect>')
        parts.append(f'<text x="{x + CELL_W / 2}" y="{TOP + BAR_H - h - 4:.1f}" class="num">{n or ""}</text>')
        parts.append(f'<text x="{x + CELL_W / 2}" y="{TOP + BAR_H + 16}" class="year">{year}</text>')
    parts.append(f'<text x="0" y="{grid_top - 10}" class="label">Articles per topic</text>')
    for r, topic in enumerate(topics):
        y = grid_top + r * ROW_H
        parts.append(f'<text x="0" y="{y + 17}" class="label">{escape(topic_names.get(topic, topic))}</text>')
        for k, year in enumerate(years):
            n = coverage.get((topic, year), 0)
            shade = 0.08 + 0.82 * n / most_cov if n else 0
            parts.append(f'<rect x="{LEFT + k * CELL_W + 2}" y="{y + 2}" width="{CELL_W - 4}" height="{ROW_H - 4}" '
                         f'class="cell" fill-opacity="{shade:.2f}"><title>{escape(topic)} {year}: {n} articles'
                         f'</title></rect>')
            parts.append(f'<text x="{LEFT + k * CELL_W + CELL_W / 2}" y="{y + 17}" '
                         f'class="num{" dark" if shade > 0.5 else ""}">{n or "·"}</text>')
    parts.append("</svg>")
    return "".join(parts)
