"""A table as the HTML page Snakemake's report shows: rendered by pandas' Styler, within a size
budget the report's browser can open."""

from __future__ import annotations

import base64
import html

import pandas as pd

# Snakemake's report shows each page as a base64 data: URL (4/3 of the page's size), and Chromium
# will not open one beyond 2 MB: a larger page is a blank frame (seen at 1.7 MB of page). Pages
# stay under this budget; what does not fit stays in the CSV.
PAGE_BYTES = 1_400_000

STYLE = """body { font: 13px system-ui, sans-serif; margin: 0.5em; color: #111; }
table { border-collapse: collapse; }
th { position: sticky; top: 0; background: #e8edf3; text-align: right; padding: 3px 6px; }
td { text-align: right; padding: 2px 6px; border-bottom: 1px solid #eee; white-space: nowrap; }
tr:hover td { background: #f5f8fc; }"""


def table_html(table: pd.DataFrame) -> str:
    """The table's rows as HTML by pandas' Styler: floats to 4 significant digits, empty cells
    empty, text escaped, no index, no per-cell ids or classes (they would double the page)."""
    from pandas.io.formats.style import Styler

    floats = {c: (lambda v: f"{v:.4g}") for c in table.columns if pd.api.types.is_float_dtype(table[c])}
    styler = Styler(table, cell_ids=False).hide(axis="index")
    return styler.format(floats, na_rep="", escape="html").to_html(exclude_styles=True)


def html_view(table: pd.DataFrame, title: str, csv_name: str, page_bytes: int = PAGE_BYTES) -> str:
    """A table as a page the report shows inline: the header kept in view, and the full-precision
    CSV embedded as a download link. Within ``page_bytes`` (``PAGE_BYTES``): a CSV too large to
    embed is named instead, and a table too long is shown from its first rows, saying how many."""
    csv = base64.b64encode(table.to_csv(index=False).encode()).decode()
    link = f'<a download="{csv_name}" href="data:text/csv;base64,{csv}">Download {csv_name}</a> (full precision)'
    if len(csv) > page_bytes // 2:
        link = f"The full table, at full precision: <code>tables/{html.escape(csv_name)}</code> of this study."
    shown = table
    while True:
        count = f"{len(table)} rows" if len(shown) == len(table) else f"the first {len(shown)} of {len(table)} rows"
        page = (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>\n{STYLE}\n</style></head><body><p><b>{html.escape(title)}</b> — {count}, "
            f"{len(table.columns)} columns.\n{link}</p>\n{table_html(shown)}</body></html>\n"
        )
        if len(page.encode()) <= page_bytes or len(shown) <= 1:
            return page
        shown = shown.head(int(len(shown) * page_bytes / len(page.encode()) * 0.95))
