"""A horizontal bar chart as inline SVG (accessible: a title, and the numbers as text).

>>> svg = bar_chart([("Vélo", 12, "mobilite-douce"), ("Réemploi", 3, "economie-circulaire")],
...                 "Acteurs par filière")
>>> svg.count("<rect"), "Vélo" in svg
(2, True)
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

ROW, LABEL_W, BAR_W, PAD = 22, 230, 240, 6
DOMAIN_CLASSES = {
    "economie-circulaire": "d1", "batiment-energie": "d2", "mobilite-douce": "d3",
    "alimentation-durable": "d4",
}


def bar_chart(rows: list[tuple[str, int, str]], title: str) -> str:
    """Bars for (label, value, domain slug) rows, longest first as given."""
    top = max((v for _, v, _ in rows), default=0) or 1
    height = PAD * 2 + ROW * len(rows)
    width = LABEL_W + BAR_W + 60
    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
            f'role="img" aria-label={quoteattr(title)}><title>{escape(title)}</title>')]
    for i, (label, value, domain) in enumerate(rows):
        y = PAD + i * ROW
        w = round(BAR_W * value / top, 1)
        shown = label if len(label) <= 34 else label[:33] + "…"
        css = DOMAIN_CLASSES.get(domain, "d0")
        out.append(f'<text x="{LABEL_W - 6}" y="{y + 15}" text-anchor="end">{escape(shown)}</text>')
        out.append(f'<rect class="{css}" x="{LABEL_W}" y="{y + 3}" width="{max(w, 1)}" '
                   f'height="{ROW - 6}"><title>{escape(label)} : {value}</title></rect>')
        out.append(f'<text x="{LABEL_W + w + 4}" y="{y + 15}">{value}</text>')
    out.append("</svg>")
    return "".join(out)
