"""Sphinx configuration of the course's web site (``make site``, ``scripts/build_site.py``).

The pages are the student edition of the notebooks with their stored outputs (nothing is
executed), the home page made from the README's table and the instructor guide. Everything a
page loads is in the site itself: MathJax from the ``sphinx-mathjax-offline`` package, the
theme's files, and ``_static/explorers.js``, which makes the explorers' stored views slide.
"""

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
_release = json.loads((REPO / "course_utils" / "release.json").read_text())

project = "Autoencoders & GANs"
author = "Autoencoders & GANs course authors"
copyright = "the course authors, MIT license"
release = _release["release"]

extensions = ["myst_nb", "sphinx-mathjax-offline"]
# notebook-files/: the student editions offered for download (scripts/build_site.py), not pages
exclude_patterns = ["_build", "**.ipynb_checkpoints", "notebook-files"]
root_doc = "index"

# the committed outputs, never re-run
nb_execution_mode = "off"
# explorers: show their static HTML (text/html), never the live widget's view, which needs a
# kernel; and load no widget script from the network
nb_mime_priority_overrides = [("html", "application/vnd.jupyter.widget-view+json", None)]
nb_ipywidgets_js = {}
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

html_theme = "sphinx_book_theme"
html_title = "Autoencoders & GANs — an interactive JAX/Flax course"
html_static_path = ["_static"]
html_css_files = ["explorers.css"]
html_js_files = ["explorers.js"]
html_copy_source = False
html_show_sourcelink = False
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
}
html_last_updated_fmt = None
# the theme's light/dark switch starts from the reader's system setting
html_context = {"default_mode": "auto"}
