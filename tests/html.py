"""Reading a rendered page the way a person (and a screen reader) meets it: its ids, what each
label points at, the error summary's entries and the words shown, without a browser."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

# Elements whose text nobody reads on the page.
_HIDDEN = frozenset({"script", "style", "template", "title", "head"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


@dataclass
class ParsedPage:
    ids: list[str] = field(default_factory=list)
    label_targets: list[tuple[str, str]] = field(default_factory=list)  # (for, label text)
    summary_links: list[tuple[str, str]] = field(default_factory=list)  # (href, text)
    summaries: int = 0
    text: str = ""
    nodes: list[str] = field(default_factory=list)  # each piece of text shown, stripped

    @property
    def duplicate_ids(self) -> list[str]:
        return sorted(key for key, count in Counter(self.ids).items() if count > 1)

    def labels_for(self, element_id: str) -> list[str]:
        return [text for target, text in self.label_targets if target == element_id]


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = ParsedPage()
        self._stack: list[str] = []
        self._hidden_depth = 0
        self._label: tuple[str, list[str]] | None = None
        self._summary_depth: int | None = None
        self._link: tuple[str, list[str]] | None = None
        self._words: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if values.get("id"):
            self.page.ids.append(values["id"])
        if tag == "label" and values.get("for"):
            self._label = (values["for"], [])
        if "data-error-summary" in values:
            self.page.summaries += 1
            self._summary_depth = len(self._stack)
        if tag == "a" and self._summary_depth is not None:
            self._link = (values.get("href", ""), [])
        if tag in _VOID:
            return
        self._stack.append(tag)
        if tag in _HIDDEN:
            self._hidden_depth += 1

    def handle_endtag(self, tag):
        if tag in _VOID or tag not in self._stack:
            return
        while self._stack:
            top = self._stack.pop()
            if top in _HIDDEN:
                self._hidden_depth -= 1
            if top == "label" and self._label is not None:
                target, words = self._label
                self.page.label_targets.append((target, " ".join("".join(words).split())))
                self._label = None
            if top == "a" and self._link is not None:
                href, words = self._link
                self.page.summary_links.append((href, " ".join("".join(words).split())))
                self._link = None
            if self._summary_depth is not None and len(self._stack) == self._summary_depth:
                self._summary_depth = None
            if top == tag:
                break
        self._words.append(" ")

    def handle_data(self, data):
        if self._hidden_depth:
            return
        self._words.append(data)
        if data.strip():
            self.page.nodes.append(" ".join(data.split()))
        if self._label is not None:
            self._label[1].append(data)
        if self._link is not None:
            self._link[1].append(data)

    def close(self):
        super().close()
        self.page.text = " ".join("".join(self._words).split())


def parse_page(html: str | bytes) -> ParsedPage:
    parser = _Parser()
    parser.feed(html.decode() if isinstance(html, bytes) else html)
    parser.close()
    return parser.page
