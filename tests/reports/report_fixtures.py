"""One seeded trial per test module (running it takes seconds), on its own SQLite file, and
readers for the report's HTML."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

from seeded_safety_trial import SeededTrial, seed_trial
from sqlalchemy.orm import Session

from trialdesk.store.engine import make_engine
from trialdesk.store.migrate import upgrade_to_head


@dataclass
class SeededDatabase:
    url: str
    trial: SeededTrial
    session: Session

    @property
    def today(self) -> date:
        return self.trial.desk.today


def seeded_database(folder: Path) -> Iterator[SeededDatabase]:
    url = f"sqlite:///{folder / 'seeded.sqlite3'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    with Session(engine) as session:
        trial = seed_trial(session)
        session.commit()
        yield SeededDatabase(url, trial, session)
    engine.dispose()


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None = None
    text: str = ""

    def within(self, ancestor: Element) -> bool:
        node = self.parent
        while node is not None:
            if node is ancestor:
                return True
            node = node.parent
        return False


@dataclass
class Page(HTMLParser):
    """The report's elements in document order, each with its own text (children included)."""

    elements: list[Element] = field(default_factory=list)
    _open: list[Element] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        parent = self._open[-1] if self._open else None
        element = Element(tag, {k: v or "" for k, v in attrs}, parent)
        self.elements.append(element)
        if tag not in ("br", "img", "meta", "link"):
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data

    def find(self, **attrs: str) -> list[Element]:
        wanted = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [
            e
            for e in self.elements
            if all((e.tag if k == "tag" else e.attrs.get(k)) == v for k, v in wanted.items())
        ]

    def inside(self, ancestor: Element, **attrs: str) -> list[Element]:
        return [e for e in self.find(**attrs) if e.within(ancestor)]

    def one(self, **attrs: str) -> Element:
        found = self.find(**attrs)
        assert len(found) == 1, f"{len(found)} elements with {attrs}"
        return found[0]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page
