"""The forwardable files (issue #25, `sim.viz.export`): the HTML report is self-contained (no
link or source outside it, figures as data: URIs), shows each section's values and escapes
text; the workbook opens with openpyxl and holds the frames' numbers as numbers; an
interrupted write leaves no file, not even half of one."""

from __future__ import annotations

import base64
import io
from html.parser import HTMLParser

import numpy as np
import openpyxl
import pandas as pd
import pytest

from sim.viz import export, plots
from sim.viz.export import Section, html_report, workbook, write_atomic

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Links(HTMLParser):
    """Every tag and every src/href/style attribute value of a page, as a browser parses it."""

    def __init__(self, page: str):
        super().__init__()
        self.tags, self.refs = [], []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.refs += [(tag, v or "") for k, v in attrs if k in ("src", "href", "srcset")]


def self_contained(page: str) -> Links:
    """No script, no stylesheet import, no src/href but a PNG data: URI (nothing outside)."""
    parsed = Links(page)
    assert "script" not in parsed.tags and "link" not in parsed.tags and "@import" not in page
    assert "url(" not in page  # no CSS fetch either
    for tag, ref in parsed.refs:
        assert tag == "img" and ref.startswith("data:image/png;base64,"), ref
        assert base64.b64decode(ref.split(",", 1)[1]).startswith(PNG_MAGIC)
    return parsed


def images(page: str) -> int:
    return Links(page).tags.count("img")


def sheet(path, name) -> pd.DataFrame:
    """A workbook's sheet as a frame (its first row the header)."""
    head, *rows = openpyxl.load_workbook(path)[name].iter_rows(values_only=True)
    return pd.DataFrame(rows, columns=head)


def open_book(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def rows(ws) -> list[list]:
    return [[c.value for c in r] for r in ws.iter_rows()]


def test_html_report_is_self_contained_and_shows_its_values():
    fig, (ax,) = plots.figure(3, 2)
    ax.plot([0, 1], [1, 0])
    table = pd.DataFrame({"group": ["staged", "a<b"], "profit (yuan)": [1234567.0, np.nan]})
    page = html_report(
        "Sweep <x>",
        [
            Section("With a table", "First *term* & `code`.\n\n- one\n- two", table, fig),
            Section("Figure as bytes", figure=export.png(fig)),
        ],
        subtitle="a subtitle",
        glossary={"profit": "margin − spend, over the run (yuan)"},
    )
    self_contained(page)
    assert images(page) == 2
    assert "1,234,567" in page and "–" in page  # numbers formatted, NaN said
    assert "a&lt;b" in page and "Sweep &lt;x&gt;" in page and "&amp;" in page  # escaped
    assert "<i>term</i>" in page and "<code>code</code>" in page
    assert "<ul><li>one</li><li>two</li></ul>" in page
    assert "<dt>profit</dt>" in page and "@media print" in page


def test_a_caption_cannot_inject_markup():
    page = html_report("t", [Section("<script>alert(1)</script>", '<img src="http://x/y.png">')])
    self_contained(page)
    assert images(page) == 0 and "<script>" not in page


def test_workbook_holds_numbers_as_numbers_with_a_bold_frozen_header():
    runs = pd.DataFrame(
        {"job": ["0", "1"], "seed": [0, 1], "profit": [1.5, np.nan], "ok": [True, False]}
    )
    long = "daily by group and a name far too long for Excel"
    data = workbook({"runs": runs, long: runs, "a/b": runs}, about={"profit": "yuan, the run"})
    wb = open_book(data)
    assert wb.sheetnames == ["runs", long[:31], "a-b", "About"]
    ws = wb["runs"]
    assert rows(ws) == [["job", "seed", "profit", "ok"], ["0", 0, 1.5, True], ["1", 1, None, False]]
    assert isinstance(ws["C2"].value, float) and ws["A1"].font.b and ws.freeze_panes == "A2"
    assert rows(wb["About"]) == [["term", "definition"], ["profit", "yuan, the run"]]


def test_the_same_sheets_give_the_same_bytes():
    """No save time in the file: two exports of the same numbers, more than a zip time step
    (2 s) and a document-date step (1 s) apart, are byte-identical."""
    import time
    import zipfile

    runs = pd.DataFrame({"job": ["0", "1"], "profit": [1.5, np.nan]})
    first = workbook({"runs": runs}, about={"profit": "yuan"})
    time.sleep(2.1)
    assert workbook({"runs": runs}, about={"profit": "yuan"}) == first
    props = open_book(first).properties
    assert props.created == props.modified == export.STAMP
    entries = zipfile.ZipFile(io.BytesIO(first)).infolist()
    assert {e.date_time for e in entries} == {(1980, 1, 1, 0, 0, 0)}


def test_sheet_names_stay_unique_within_the_limit():
    names = export.sheet_names(["x" * 40, "x" * 35, "about"])
    assert list(names.values()) == ["x" * 31, "x" * 27 + " (2)", "about (2)"]


def test_an_interrupted_write_leaves_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "report.html"
    write_atomic(path, "old report")

    def cut(self, data):  # the disk fills half-way through the write
        with open(self, "wb") as f:
            f.write(data[:3])
        raise OSError("no space left on device")

    monkeypatch.setattr(export.Path, "write_bytes", cut)
    with pytest.raises(OSError):
        write_atomic(path, "new report, much longer")
    assert path.read_text() == "old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left


def test_the_templates_travel_with_the_package():
    """pyproject.toml's package data names every template, so a non-editable install has them."""
    import tomllib
    from fnmatch import fnmatch
    from pathlib import Path

    root = Path(export.__file__).resolve().parents[2]
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    globs = data["package-data"]["sim.viz.templates"]
    templates = [p.name for p in (root / "sim" / "viz" / "templates").glob("*.j2")]
    assert export.TEMPLATE in templates
    assert all(any(fnmatch(t, g) for g in globs) for t in templates)
