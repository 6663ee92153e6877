"""mkdocs hooks (mkdocs.yml `hooks:`): the study pages join the documentation site.

The study pages stay in experiments/ (the study commands write them there, and they read well
on a forge next to configs/experiment/), so the site takes them as they are instead of a copy:
each experiments/<name>.md is served as studies/<name>.md (experiments/README.md, the list of
studies, as studies/). Their links into docs/ (`../docs/figures/...`) are written relative to
experiments/; in the site, studies/ sits inside docs/, so `../docs/` becomes `../`.
"""

from pathlib import Path

from mkdocs.structure.files import File

STUDIES = Path(__file__).resolve().parent.parent / "experiments"
FOLDER = "studies/"


def on_files(files, config):
    for path in sorted(STUDIES.glob("*.md")):
        files.append(File.generated(config, FOLDER + path.name, abs_src_path=str(path)))
    return files


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri.startswith(FOLDER):
        return markdown.replace("](../docs/", "](../")
    return markdown
