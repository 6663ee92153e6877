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
  `about`'s terms and definitions (what each column means, its unit and horizon).
- `write_atomic(path, data)`: text (UTF-8) or bytes through the project's one atomic write
  (`sim.experiment.jobs.atomic_write`): a reader never sees half a file.
"""

from __future__ import annotations

import base64
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
ABOUT = "About"
SHEET_MAX = 31  # Excel's limit on a sheet name
SHEET_BAD = re.compile(r"[\[\]:*?/\\]")  # characters Excel refuses in a sheet name
DPI = 110  # a Figure embedded in a report, as the sweep's own PNGs


@dataclass(frozen=True)
class Section:
    """One part of a report: a heading, then plain paragraphs, a table and a figure (each
    optional, in that order)."""

    heading: str
    text: str = ""  # paragraphs split on blank lines; HTML escaped
    table: pd.DataFrame | None = None  # shown as it is: format numbers first where it matters
    figure: Figure | bytes | None = None  # a matplotlib Figure or PNG bytes, embedded base64


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


def paragraphs(text: str) -> Markup:
    """Blank-line separated paragraphs; a paragraph whose lines start with "- " is a list."""
    out = []
    for block in re.split(r"\n\s*\n", str(text or "").strip()):
        lines = [x.strip() for x in block.splitlines() if x.strip()]
        if not lines:
            continue
        if all(x.startswith("- ") for x in lines):
            out.append("<ul>" + "".join(f"<li>{prose(x[2:])}</li>" for x in lines) + "</ul>")
        else:
            out.append(f"<p>{prose(' '.join(lines))}</p>")
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


def cell(v) -> Markup:
    """A `<td>`: numbers right-aligned (`number_text`), text escaped."""
    if isinstance(v, (int, float, np.number)) or v is None or v is pd.NA:
        return Markup(f'<td class="num">{number_text(v)}</td>')
    return Markup(f"<td>{html.escape(str(v), quote=False)}</td>")


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
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------------- files


def write_atomic(path, data: str | bytes) -> None:
    """Write `data` (text as UTF-8) to `path` atomically (`jobs.atomic_write`)."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    atomic_write(Path(path), lambda t: Path(t).write_bytes(raw))
