"""The course's web site (`make site`): every notebook a page, every reference inside the site,
search and explorers that work without a kernel. Needs the `site` extra (installed by
`make install`); the Colab environment has no Sphinx and skips this file."""

import base64
import json
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import yaml

pytest.importorskip("sphinx", reason="the `site` extra is not installed: make install adds it")
pytest.importorskip("myst_nb", reason="the `site` extra is not installed: make install adds it")

import build_site  # noqa: E402
from html_tags import StartTags  # noqa: E402

from course_utils import colab  # noqa: E402
from course_utils.widgets import (  # noqa: E402
    conv_arithmetic_explorer,
    static,
    trained_models_explorer,
)

REPO = Path(__file__).resolve().parent.parent
NAMES = [name for name, _, _ in build_site.readme_rows((REPO / "README.md").read_text())]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return build_site.build_site(tmp_path_factory.mktemp("site") / "out")


def test_every_notebook_of_the_readme_is_a_page_in_course_order(site):
    assert NAMES == sorted(p.name for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    index = (site / "index.html").read_text()
    positions = [index.index(f'href="{Path(n).stem}.html"') for n in NAMES]
    assert positions == sorted(positions)
    for name in NAMES:
        page = site / f"{Path(name).stem}.html"
        title = json.loads((REPO / "notebooks" / name).read_text())["cells"][0]["source"][0]
        assert title.lstrip("# ").strip()[:20] in page.read_text()
    assert (site / "instructor-guide.html").is_file()


def test_each_page_links_to_colab_and_its_notebook_file(site):
    for name in NAMES:
        tags = StartTags((site / f"{Path(name).stem}.html").read_text())
        hrefs = [a.get("href", "") for a in tags.tags("a")]
        assert colab.colab_url(name) in hrefs
        (download,) = [h for h in hrefs if h.startswith("_downloads/") and h.endswith(name)]
        nb = nbformat.read(site / download, as_version=4)
        assert not any("solution" in c.metadata.get("tags", []) for c in nb.cells)
        source = nbformat.read(REPO / "notebooks" / name, as_version=4)
        assert nb.cells[0].source == source.cells[0].source  # the notebook as handed out
        assert len(nb.cells) < len(source.cells)  # without its solution cells


def test_every_reference_resolves_and_every_image_is_there(site):
    assert build_site.check_links(site) == []
    images = 0
    for page in site.glob("*.html"):
        for img in StartTags(page.read_text()).tags("img"):
            src = img["src"]
            if src.startswith("data:image/png;base64,"):
                assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
            else:
                assert (page.parent / src).stat().st_size > 0, src
            images += 1
    assert images >= 50  # the notebooks' figures


def test_the_link_check_finds_missing_files_anchors_and_outside_images(tmp_path):
    (tmp_path / "a.html").write_text(
        '<a href="b.html#there">b</a><a href="c.html">c</a><img src="missing.png">'
        '<img src="https://example.org/x.png"><a href="https://example.org/">ok</a>'
        '<a href="#top">top</a><div id="top"></div>')
    (tmp_path / "b.html").write_text('<h1 id="here">b</h1>')
    problems = build_site.check_links(tmp_path)
    assert len(problems) == 4, problems
    assert any("#there" in p for p in problems) and any("c.html" in p for p in problems)
    assert any("missing.png" in p for p in problems)
    assert any("another server" in p for p in problems)


def test_search_index_finds_notebook_07_for_elbo(site):
    text = (site / "searchindex.js").read_text()
    index = json.loads(text[text.index("(") + 1:text.rindex(")")])
    found = set()
    for kind in ("terms", "titleterms"):  # words of the text, words of the headings
        docs = index[kind].get("elbo", [])
        found |= set(docs if isinstance(docs, list) else [docs])
    assert "07_variational_autoencoders" in {index["docnames"][i] for i in found}


def test_math_is_rendered_by_the_mathjax_shipped_in_the_site(site):
    page = (site / "07_variational_autoencoders.html").read_text()
    scripts = [a.get("src", "") for a in StartTags(page).tags("script")]
    (mathjax,) = [s for s in scripts if "mathjax" in s]
    assert not re.match(r"https?:", mathjax) and (site / mathjax).is_file()
    assert page.count('class="math') >= 5


def explorer_notebook() -> nbformat.NotebookNode:
    """A notebook with two outputs as a kernel stores them for explorers shown with
    ``COURSE_STATIC_EXPLORERS=1`` (the widget's view and the static HTML): a λ slider over
    three stored models, and notebook 05's convolution explorer (eight controls, stored one
    at a time, some ranges following others)."""
    rng = np.random.default_rng(0)
    lams = (0.0, 0.01, 0.1)
    lam = trained_models_explorer(
        "lam", "λ", rng.random((4, 784), dtype=np.float32),
        {v: rng.random((4, 784), dtype=np.float32) for v in lams},
        {v: rng.random((3, 784), dtype=np.float32) for v in lams}, panel_name="features",
        panel_title="features", digits_title="digits", value=0.0)
    cells = [nbformat.v4.new_markdown_cell("# Explorer")]
    for source, explorer in (("sparsity_explorer(...)", lam),
                             ("conv_arithmetic_explorer()", conv_arithmetic_explorer())):
        data = dict(explorer.widget._repr_mimebundle_())
        data["text/html"] = static.static_html(explorer)
        cells.append(nbformat.v4.new_code_cell(source, outputs=[
            nbformat.v4.new_output("display_data", data=data)]))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata.update(
        kernelspec={"name": "python3", "display_name": "Python 3", "language": "python"},
        language_info={"name": "python", "pygments_lexer": "ipython3"})
    return nb


def build_explorer_site(out: Path) -> Path:
    """A one-page site, with the course's configuration, that shows ``explorer_notebook()``."""
    src = out.parent / "src"
    src.mkdir(parents=True)
    (src / "index.md").write_text("# Home\n\n```{toctree}\nexplorer\n```\n")
    nbformat.write(explorer_notebook(), src / "explorer.ipynb")
    return build_site.sphinx_build(src, out)


def test_a_stored_explorer_is_shown_as_its_static_html_not_the_widget(tmp_path):
    site = build_explorer_site(tmp_path / "out")
    page = (site / "explorer.html").read_text()
    assert page.count(f'class="{static.CSS_CLASS}"') == 2
    assert "application/vnd.jupyter.widget-view+json" not in page
    scripts = [a.get("src", "") for a in StartTags(page).tags("script")]
    assert any(s.startswith("_static/explorers.js") for s in scripts)
    assert not any("require" in s or "embed-amd" in s for s in scripts)


def test_pages_workflow_builds_with_make_site_and_publishes_build_site():
    flow = yaml.safe_load((REPO / ".github" / "workflows" / "pages.yml").read_text())
    build = flow["jobs"]["build"]["steps"]
    assert any(s.get("run", "").startswith("make site") for s in build)
    (upload,) = [s for s in build if s.get("uses", "").startswith(
        "actions/upload-pages-artifact@")]
    assert upload["with"]["path"] == "build/site"
    deploy = flow["jobs"]["deploy"]["steps"]
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in deploy)
    assert flow["permissions"]["pages"] == "write"


def test_a_broken_internal_link_fails_the_build(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "index.md").write_text("# Home\n\nSee [the missing page](missing.md).\n")
    with pytest.raises(RuntimeError, match="sphinx-build failed"):
        build_site.sphinx_build(src, tmp_path / "out")
