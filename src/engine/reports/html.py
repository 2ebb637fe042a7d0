"""The page parts both training reports share: inline styling, the self-contained page, plots as
PNG data URIs, and escaped text."""

from __future__ import annotations

import base64
from html import escape

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#0f172a;
background:#f1f5f9;margin:0;line-height:1.5}
main{max-width:1180px;margin:0 auto;padding:24px}
header,section{background:#fff;border-radius:10px;padding:18px 24px;margin-bottom:18px;
box-shadow:0 1px 3px rgba(15,23,42,.08)}
h1{font-size:1.6rem;margin:0 0 8px}h2{font-size:1.15rem;margin:0 0 12px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:0}
dt{color:#475569}dd{margin:0;font-weight:600}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:18px}
.grid section{margin:0}
img{width:100%;height:auto;display:block}
img.wide{max-width:760px;margin:0 auto}
.note{color:#475569;background:#f8fafc;border:1px dashed #cbd5e1;border-radius:8px;padding:36px;
text-align:center}
table{border-collapse:collapse;min-width:360px}
th,td{padding:6px 14px;border-bottom:1px solid #e2e8f0;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
th{color:#475569;font-weight:600}
code{font-size:.85em;color:#64748b}
ul{margin:0;padding-left:20px}
"""


def page(title: str, body: str, extra_style: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}{extra_style}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def image(png: bytes, alt: str, css: str = "") -> str:
    encoded = base64.b64encode(png).decode("ascii")
    attribute = f' class="{css}"' if css else ""
    return f'<img src="data:image/png;base64,{encoded}" alt="{escape(alt)}"{attribute}>'


def note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def section(heading: str, content: str) -> str:
    return f"<section>\n<h2>{escape(heading)}</h2>\n{content}\n</section>"


def changes(items: list[str]) -> str:
    if not items:
        return section("Changes", "<p>No changes recorded.</p>")
    listed = "\n".join(f"<li>{escape(change)}</li>" for change in items)
    return section("Changes", f"<ul>\n{listed}\n</ul>")
