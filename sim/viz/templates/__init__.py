"""The Jinja2 templates of the forwardable files (`sim.viz.export`): `report.html.j2`, one
self-contained HTML page (styles inline, figures as data: URIs) with a print stylesheet, so a
browser's "Print to PDF" gives the same report. Package data (pyproject.toml), found through
`importlib.resources` in an installed package too."""
