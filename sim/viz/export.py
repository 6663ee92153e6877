"""Files a strategist can forward (issue #25): one self-contained HTML report and one Excel
workbook, whatever produced the numbers (a sweep, the what-if page, a policy search, a
calibration). This module only renders; each caller says what goes in and defines every number.

- `html_report(title, sections, subtitle, glossary)`: a page from the Jinja2 template
  `sim/viz/templates/report.html.j2` (package data): styles inline, figures embedded as base64
  PNG data: URIs, no script and no link to anything outside, so it opens offline and a browser's
  "Print to PDF" gives the same report (the template's print stylesheet keeps figures and table
  rows whole). Text is escaped; `*term*`, `**bold**` and `` `code` `` marks and "- " bullets are
  the only markup read (the markdown subset the reports' notes already use).
- `workbook(sheets, about)`: `.xlsx` bytes (openpyxl): one sheet per frame, header row bold and
  frozen, numbers stored as numbers (NaN as an empty cell), and an "About" sheet listing
  `about`'s terms and definitions (what each column means, its unit and horizon); the same
  sheets give the same bytes (no save time inside: `STAMP`).
- `write_atomic(path, data)`: text (UTF-8) or bytes through the project's one atomic write
  (`sim.experiment.jobs.atomic_write`): a reader never sees half a file.
"""

from __future__ import annotations

import base64
import datetime
import html
import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from markupsafe import Markup

import sim
from sim.experiment.jobs import atomic_write

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TEMPLATE = "report.html.j2"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"  # a workbook's type
ABOUT = "About"
SHEET_MAX = 31  # Excel's limit on a sheet name
SHEET_BAD = re.compile(r"[\[\]:*?/\\]")  # characters Excel refuses in a sheet name
DPI = 110  # a Figure embedded in a report, as the sweep's own PNGs


@dataclass(frozen=True)
class Section:
    """One part of a report: a heading, then plain paragraphs, a table and a figure (each
    optional, in that order)."""

    heading: str  # "" continues the previous section without a heading
    text: str = ""  # paragraphs split on blank lines; HTML escaped
    table: pd.DataFrame | None = None  # shown as it is: format numbers first where it matters
    figure: Figure | bytes | None = None  # a matplotlib Figure or PNG bytes, embedded base64
    level: int = 2  # the heading's level: 2 a section, 3 a part of one


# ---------------------------------------------------------------------------- HTML

INLINE = (
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"<b>\1</b>"),
    (re.compile(r"(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])"), r"<i>\1</i>"),
)


def prose(text: str) -> Markup:
    """One paragraph's text escaped, with its `code`, **bold** and *italic* marks."""
    out = html.escape(str(text), quote=False)
    for pattern, repl in INLINE:
        out = pattern.sub(repl, out)
    return Markup(out)


FENCE = re.compile(r"^```[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)


def _block(block: str) -> str:
    """One paragraph: a list when every line starts with "- ", else text whose lines ending in
    two spaces break the line (markdown's hard break)."""
    raw = [x for x in block.splitlines() if x.strip()]
    if not raw:
        return ""
    if all(x.strip().startswith("- ") for x in raw):
        return "<ul>" + "".join(f"<li>{prose(x.strip()[2:])}</li>" for x in raw) + "</ul>"
    lines, line = [], []
    for x in raw:
        line.append(x.strip())
        if x.endswith("  "):
            lines.append(" ".join(line))
            line = []
    lines += [" ".join(line)] if line else []
    return "<p>" + "<br>".join(map(prose, lines)) + "</p>"


def paragraphs(text: str) -> Markup:
    """Blank-line separated paragraphs (`_block`); a ``` fence is kept preformatted."""
    out, text, pos = [], str(text or ""), 0
    for m in [*FENCE.finditer(text), None]:
        end = m.start() if m else len(text)
        out += [b for b in map(_block, re.split(r"\n\s*\n", text[pos:end])) if b]
        if m:
            out.append(f"<pre><code>{html.escape(m[1].rstrip(), quote=False)}</code></pre>")
            pos = m.end()
    return Markup("\n".join(out))


def number_text(v) -> str:
    """A number as a table shows it when the caller did not format it: thousands separated
    from 1,000 up, four significant digits below; – for a missing value."""
    if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    v = float(v)
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


NUMERIC = re.compile(r"^[-+−]?[\d.,]+\s*%?(\s*±\s*[\d.,]+\s*%?)?$")  # 1,234 ± 56, 19.9%


def cell(v) -> Markup:
    """A `<td>`: numbers (and text that is one, as a markdown table's) right-aligned, numbers
    as `number_text`, text as `prose`."""
    if isinstance(v, (int, float, np.number)) or v is None or v is pd.NA:
        return Markup(f'<td class="num">{number_text(v)}</td>')
    num = ' class="num"' if NUMERIC.match(str(v)) else ""
    return Markup(f"<td{num}>{prose(v)}</td>")


def png(figure: Figure | bytes) -> bytes:
    """A figure's PNG bytes (PNG bytes are passed through)."""
    if isinstance(figure, (bytes, bytearray)):
        return bytes(figure)
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def data_uri(figure: Figure | bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png(figure)).decode("ascii")


@cache
def environment():
    """The Jinja2 environment over the packaged templates, HTML autoescaped."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sim.viz", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(prose=prose, paragraphs=paragraphs, cell=cell, data_uri=data_uri)
    return env


def html_report(
    title: str,
    sections: Sequence[Section],
    subtitle: str = "",
    glossary: Mapping[str, str] | None = None,
) -> str:
    """The report as one self-contained HTML page (see the module docstring); `glossary` (term
    -> definition) closes it under "Definitions"."""
    return environment().get_template(TEMPLATE).render(
        title=title,
        subtitle=subtitle,
        sections=list(sections),
        glossary=dict(glossary or {}),
        version=sim.__version__,
    )


TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
RULE = re.compile(r"^[\s|:-]+$")  # a table's header rule: |---|---|
IMAGE = re.compile(r"^\s*!\[([^\]]*)\]\(([^)\s]+)\)\s*$")
HEADING = re.compile(r"^(#{1,3})\s+(.*?)\s*$")


def _table(lines: list[str]) -> pd.DataFrame:
    """A markdown table's cells as text (`\\|` is a literal bar)."""
    rows = [
        [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", x.strip()[1:-1])]
        for x in lines
        if not RULE.match(x)
    ]
    return pd.DataFrame(rows[1:], columns=rows[0])


def markdown_sections(text: str, folder: Path | None = None) -> tuple[str, list[Section]]:
    """A report the project wrote in markdown (report.md) as (title, sections), so the HTML
    holds what the markdown says, word for word: `#` is the title, `##` / `###` open a section,
    `|` lines a table (cells as text), `![alt](file.png)` a figure read from `folder`, the rest
    text. A part that would come out of order (text after a table or a figure, a second table)
    continues in a section without a heading: the page reads in the markdown's order."""
    title, out = "", []
    head, level, body, table, fig = "", 2, [], None, None

    def flush():
        nonlocal head, body, table, fig
        if head or "\n".join(body).strip() or table is not None or fig is not None:
            out.append(Section(head, "\n".join(body).strip(), table, fig, level))
        head, body, table, fig = "", [], None, None

    lines, i, fenced = text.splitlines(), 0, False
    while i < len(lines):
        x = lines[i]
        fenced ^= x.lstrip().startswith("```")
        if not fenced and (m := HEADING.match(x)):
            if len(m[1]) == 1 and not title:
                title = m[2]
            else:
                flush()
                head, level = m[2], len(m[1])
        elif not fenced and TABLE_ROW.match(x):
            j = i
            while j < len(lines) and TABLE_ROW.match(lines[j]):
                j += 1
            if table is not None or fig is not None:
                flush()
            table, i = _table(lines[i:j]), j
            continue
        elif not fenced and (m := IMAGE.match(x)):
            if fig is not None:
                flush()
            path = Path(folder or ".") / m[2]
            if path.is_file():
                fig = path.read_bytes()
            else:
                body.append(f"(Figure {m[1]!r} not available: {m[2]} is missing.)")
        else:
            if x.strip() and (table is not None or fig is not None):
                flush()
            body.append(x)
        i += 1
    flush()
    return title, out


def markdown_report(text: str, folder: Path | None = None, glossary=None) -> str:
    """`html_report` of a markdown report (`markdown_sections`)."""
    title, sections = markdown_sections(text, folder)
    return html_report(title, sections, glossary=glossary)


# ---------------------------------------------------------------------------- workbook


def sheet_names(names) -> dict[str, str]:
    """Each name as Excel accepts it: no []:*?/\\ characters, at most 31 characters, unique
    (a clash gets ` (2)`, ` (3)`, … within the limit)."""
    out, used = {}, {ABOUT.lower()}
    for name in names:
        base = SHEET_BAD.sub("-", str(name)).strip("'") or "Sheet"
        cand, k = base[:SHEET_MAX], 1
        while cand.lower() in used:
            k += 1
            cand = f"{base[: SHEET_MAX - len(f' ({k})')]} ({k})"
        used.add(cand.lower())
        out[name] = cand
    return out


def excel_value(v):
    """A cell's value: numbers as Python numbers (NaN and ±inf as an empty cell), booleans as
    booleans, everything else as text."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if math.isfinite(v) else None
    return str(v)


def _fill(ws, frame: pd.DataFrame) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws.append([str(c) for c in frame.columns])
    for c in ws[1]:
        c.font = Font(bold=True)
    for row in frame.itertuples(index=False):
        ws.append([excel_value(v) for v in row])
    ws.freeze_panes = "A2"
    for i, c in enumerate(frame.columns, 1):
        sample = frame[c].head(200).map(lambda v: len(str(v)))  # a width a reader can read
        width = max(len(str(c)), int(sample.max()) if len(sample) else 0)
        ws.column_dimensions[get_column_letter(i)].width = min(60, max(8, width + 2))


def workbook(sheets: Mapping[str, pd.DataFrame], about: Mapping[str, str] | None = None) -> bytes:
    """The `.xlsx` bytes of `sheets` (name -> frame, in order; names made valid by
    `sheet_names`), then an "About" sheet of `about` (term -> definition), when given."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    names = sheet_names(sheets)
    for name, frame in sheets.items():
        _fill(wb.create_sheet(names[name]), frame)
    if about:
        ws = wb.create_sheet(ABOUT)
        _fill(ws, pd.DataFrame(list(about.items()), columns=["term", "definition"]))
        ws.column_dimensions["B"].width = 110
    return _saved(wb)


# The workbook's document dates and its zip entries' times: fixed, so one export of the same
# numbers gives the same bytes (the run's own provenance says when it ran). 1980-01-01 is the
# earliest time a zip entry can carry.
STAMP = datetime.datetime(1980, 1, 1)


def _saved(wb) -> bytes:
    """`wb`'s `.xlsx` bytes, identical for identical content: openpyxl stamps the document's
    created / modified dates and each zip entry's time with the clock (`Workbook.save`), so
    the dates are set to `STAMP` and the archive is written again with every entry at `STAMP`
    (same names, order and contents)."""
    from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

    from openpyxl.writer.excel import ExcelWriter

    wb.properties.created = wb.properties.modified = STAMP
    raw = io.BytesIO()
    ExcelWriter(wb, ZipFile(raw, "w", ZIP_DEFLATED, allowZip64=True)).save()  # no clock
    out = io.BytesIO()
    with ZipFile(raw) as src, ZipFile(out, "w", ZIP_DEFLATED) as dst:
        for entry in src.infolist():
            fixed = ZipInfo(entry.filename, date_time=STAMP.timetuple()[:6])
            fixed.compress_type, fixed.external_attr = ZIP_DEFLATED, 0o644 << 16
            dst.writestr(fixed, src.read(entry))
    return out.getvalue()


# ---------------------------------------------------------------------------- files


def write_atomic(path, data: str | bytes) -> None:
    """Write `data` (text as UTF-8) to `path` atomically (`jobs.atomic_write`)."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    atomic_write(Path(path), lambda t: Path(t).write_bytes(raw))
