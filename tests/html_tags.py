"""The start tags of an HTML page, for the tests that read built pages and static explorers."""

from __future__ import annotations

from html.parser import HTMLParser


class StartTags(HTMLParser):
    """Every start tag of an HTML string as ``(tag, attributes)``, in document order."""

    def __init__(self, text: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def tags(self, name: str) -> list[dict]:
        """The attributes of every ``<name ...>`` tag, in document order."""
        return [a for t, a in self.found if t == name]
