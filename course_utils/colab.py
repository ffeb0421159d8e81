"""Where the course lives on GitHub and the release Colab runs.

``REPO`` and ``RELEASE`` are read from the package's data file ``course_utils/release.json``,
the one place that names the repository and the release (a git tag, ``"v"`` + the ``version``
in pyproject.toml). Every notebook's "Open in Colab"
badge, every notebook's setup cell, the README's badges and the address the data files and
pretrained checkpoints are downloaded from (``course_utils.data.DATA_BASE_URL``) follow them,
so in Colab the notebook's text, the code it installs and the files that code downloads all
come from the same tagged commit: a push to a branch changes nothing in a running course.
Instructors re-point all of them, from the repository's root, with the script
``scripts/repoint_colab.py``::

    python scripts/repoint_colab.py --release v0.3.0                # after bumping the version
    python scripts/repoint_colab.py --repo OWNER/NAME [--release TAG]  # a fork
    python scripts/repoint_colab.py --check       # report links that do not match REPO/RELEASE

The setup cell (the second cell of every notebook) does something only inside Google Colab:
unless the installed package already has the release's version, it installs the package from
that tag with pip (which keeps the versions Colab already has wherever the package's ranges
allow), and it turns on Colab's manager for custom widgets so the course's sliders render.
Anywhere else it only defines three names.
"""

from __future__ import annotations

import json
import re
from importlib import resources

__all__ = [
    "REPO",
    "RELEASE",
    "BADGE_IMAGE",
    "RELEASE_FILE",
    "read_release",
    "validate",
    "colab_url",
    "badge_markdown",
    "raw_data_url",
    "install_url",
    "setup_cell_source",
]

RELEASE_FILE = "release.json"
"""The package's data file naming the repository and release: ``{"repo": ..., "release": ...}``."""


def read_release() -> tuple[str, str]:
    """``(repo, release)`` as written in the package's ``release.json``."""
    pinned = json.loads(resources.files("course_utils").joinpath(RELEASE_FILE).read_text("utf-8"))
    return pinned["repo"], pinned["release"]


REPO, RELEASE = read_release()

_REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
# "v" + a version in the normalised form pip reports (0.2.0, 1.0rc1, 0.3.0.post1)
_RELEASE_RE = re.compile(r"^v\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?$")
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def validate(repo: str, release: str) -> None:
    """Raise ``ValueError`` unless ``repo`` is ``OWNER/NAME`` and ``release`` a version tag."""
    if (not isinstance(repo, str) or not _REPO_RE.match(repo)
            or any(part in (".", "..") for part in repo.split("/"))):
        raise ValueError(
            f"repo must look like OWNER/NAME (e.g. my-lab/ae-gans-course), got {repo!r}"
        )
    if not isinstance(release, str) or not _RELEASE_RE.match(release):
        raise ValueError(
            f"release must be a version tag such as v0.2.0 ('v' + the version in "
            f"pyproject.toml), got {release!r}"
        )


def colab_url(notebook: str, repo: str = REPO, release: str = RELEASE) -> str:
    """The Colab address that opens ``notebooks/<notebook>`` of ``repo`` at tag ``release``."""
    validate(repo, release)
    return f"https://colab.research.google.com/github/{repo}/blob/{release}/notebooks/{notebook}"


def badge_markdown(notebook: str, repo: str = REPO, release: str = RELEASE) -> str:
    """The "Open in Colab" badge (Markdown) for ``notebooks/<notebook>`` at ``release``."""
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(notebook, repo, release)})"


def raw_data_url(repo: str = REPO, release: str = RELEASE) -> str:
    """The address of the ``data/`` folder at tag ``release``, for downloads without a clone."""
    validate(repo, release)
    return f"https://raw.githubusercontent.com/{repo}/{release}/data/"


def install_url(repo: str = REPO, release: str = RELEASE) -> str:
    """What the setup cell gives pip: the package at tag ``release`` of ``repo``."""
    validate(repo, release)
    return f"git+https://github.com/{repo}@{release}"


def setup_cell_source(repo: str = REPO, release: str = RELEASE) -> str:
    """The source of every notebook's setup cell for ``repo`` at tag ``release``.

    pip keeps an installed package whose version equals the requested one, wherever it came
    from, so the cell compares the installed version with the release itself: a runtime that
    ran an older release's cell gets the new code when the cell runs again.
    """
    validate(repo, release)
    return (
        "# Setup: in Google Colab this installs the course's helpers at the release the notebook\n"
        "# belongs to and turns on its widgets; anywhere else it does nothing.\n"
        "import sys\n"
        "\n"
        f'COURSE_REPO, COURSE_RELEASE = "{repo}", "{release}"\n'
        'if "google.colab" in sys.modules:\n'
        "    import subprocess\n"
        "    from importlib.metadata import PackageNotFoundError, version\n"
        "\n"
        "    from google.colab import output\n"
        "\n"
        "    try:\n"
        '        installed = version("course-utils")\n'
        "    except PackageNotFoundError:\n"
        "        installed = None\n"
        '    # pip keeps an installed package of the same version, whatever its source: compare\n'
        '    if installed != COURSE_RELEASE.removeprefix("v"):\n'
        '        url = f"git+https://github.com/{COURSE_REPO}@{COURSE_RELEASE}"\n'
        '        subprocess.run([sys.executable, "-m", "pip", "install", "-q", url], check=True)\n'
        '        if "course_utils" in sys.modules:\n'
        '            print("course_utils was updated: restart the session (Runtime menu)")\n'
        "    output.enable_custom_widget_manager()"
    )
