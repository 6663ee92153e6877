"""Documentation that is generated from the code stays equal to it."""

from pathlib import Path

from sim.core import results

OUTPUTS = Path(__file__).resolve().parent.parent / "docs" / "outputs.md"


def test_outputs_page_daily_table_is_the_declared_columns():
    text = OUTPUTS.read_text()
    start, end = "<!-- daily-columns -->\n", "\n<!-- /daily-columns -->"
    shown = text[text.index(start) + len(start) : text.index(end)]
    assert shown == results.markdown(), (
        "docs/outputs.md's daily table drifted: paste results.markdown()"
    )
