"""Documentation that is generated from the code stays equal to it."""

from pathlib import Path

from sim.core import results

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_daily_table_is_the_declared_columns():
    text = README.read_text()
    start, end = "<!-- daily-columns -->\n", "\n<!-- /daily-columns -->"
    shown = text[text.index(start) + len(start) : text.index(end)]
    assert shown == results.markdown(), "README's daily table drifted: paste results.markdown()"
