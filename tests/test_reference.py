"""docs/parameters.md is what `privsim-params` generates from the schema and the configs."""

from sim.experiment import reference


def test_parameter_reference_is_up_to_date():
    committed = reference.DOC.read_text()
    assert committed == reference.markdown(), "docs/parameters.md drifted: run `make docs`"


def test_every_config_key_has_a_meaning_and_a_unit():
    undocumented = [
        key
        for key, f, _ in reference.rows()
        if not (f.metadata.get("doc") and f.metadata.get("unit"))
    ]
    assert undocumented == [], "give these fields doc= and unit= in sim/core/params.py"


def test_every_default_key_is_in_the_reference():
    text = reference.markdown()
    for key, _, _ in reference.rows():
        assert f"| `{key}` |" in text


def test_yaml_comments_follow_keys_lists_and_continuations(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text(
        "# header line\n"
        "# @package _global_\n"
        "a: 1          # one\n"
        "b:\n"
        "  c: 2        # two (§2.2)\n"
        "              # continued\n"
        "  d: 3\n"
        "phases:\n"
        "  - name: p0\n"
        "    min_days: 5   # five\n"
        "  - name: p1\n"
        "    min_days: 6   # six\n"
        "e: 'x # not a comment'\n"
    )
    header, comments = reference.yaml_comments(path)
    assert header == ["header line"]
    assert comments == {
        "a": "one",
        "b.c": "two (§2.2) continued",
        "phases.0.min_days": "five",
        "phases.1.min_days": "six",
    }
    assert reference.source(comments, "b.d") == reference.NOT_STATED
    assert reference.source({"b": "parent"}, "b.d") == "parent"
