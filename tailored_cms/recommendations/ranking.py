"""The recommender: which unread pages a visitor is most likely to read next, best first, each with why.

Plain Python on plain data (no Django, no I/O): ``compute`` feeds it from the database, the bench from a synthetic
click log, and the ``recommendations/`` endpoint uses the shared half for visitors it may not track.

``fit`` learns what all visitors' reads say, once per run:

- **co-reads**: for each page, the pages most read by the same visitors (cosine of their readers, at least
  ``MIN_CO_READERS`` in common), the ``NEIGHBOURS`` best: "readers of this page also read";
- **popularity**: readers in the last ``POPULAR_DAYS`` days, each weighted by how recent the read is;
- **per topic**: the topic's pages by popularity, new pages lifted (what a visitor who follows a topic gets).

``recommend`` ranks one visitor's candidates (the co-reads of what they read, the best pages of their strongest
topics, the popular pages) by ``CO_READ`` × co-read score + ``TOPIC`` × topic affinity + ``POPULAR`` ×
popularity + ``NEW`` × freshness in a topic they care about, leaves out what they read, and gives each the reason
that weighed most. A visitor with no reads and no topics gets the popular pages.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

__all__ = [
    "NEW_DAYS",
    "NEW",
    "POPULAR",
    "READ",
    "TOPIC",
    "PageFacts",
    "Pick",
    "SharedModel",
    "Model",
    "fit",
    "recommend",
    "topic_affinity",
]

# Reason kinds, what each pick says to the visitor (``reasons.describe``).
READ = "read"  # because you read <page>
TOPIC = "topic"  # popular in <topic>
NEW = "new"  # new in <topic>, a topic you follow
POPULAR = "popular"  # popular on the site these days

NEIGHBOURS = 20  # co-read pages kept per page
MIN_CO_READERS = 2  # a pair read together by one visitor says nothing yet
READS_PER_VISITOR = 30  # the most recent reads of a visitor count towards co-reads (bounds the pairs)
POPULAR_DAYS = 7.0  # popularity counts the reads of the last days
READ_HALF_LIFE_DAYS = 14.0  # a read (or topic view) weighs half as much after this many days
NEW_DAYS = 7.0  # a page this young is "new"
PER_TOPIC = 40  # pages kept per topic for the shared lists
POPULAR_KEPT = 60  # popular pages kept for the shared lists
CANDIDATE_TOPICS = 3  # a visitor's strongest topics bring candidates

# The score's weights (tuned on the bench's synthetic log, python -m bench recommendations).
CO_READ = 1.0
TOPIC_WEIGHT = 0.9
POPULAR_WEIGHT = 0.25
NEW_WEIGHT = 0.3


@dataclass(frozen=True)
class PageFacts:
    """What ranking knows of a page: its topics' slugs and how many days ago it was published."""

    topics: tuple[str, ...]
    age_days: float


@dataclass(frozen=True)
class Pick:
    """A recommended page and why: ``kind`` is one of READ, TOPIC, NEW, POPULAR; ``subject`` the page id read
    (READ) or the topic's slug (TOPIC, NEW), else ``""``."""

    page_id: int
    kind: str
    subject: str = ""

    def as_list(self) -> list[int | str]:
        return [self.page_id, self.kind, self.subject]


@dataclass
class SharedModel:
    """The half of the model that names no visitor: enough to rank for a visitor by their followed topics alone.
    Small (``POPULAR_KEPT`` + ``PER_TOPIC`` per topic pages), kept in Redis for the endpoint."""

    pages: dict[int, PageFacts] = field(default_factory=dict)
    popularity: dict[int, float] = field(default_factory=dict)  # 0–1, the most popular page 1
    popular: list[int] = field(default_factory=list)  # best first
    by_topic: dict[str, list[int]] = field(default_factory=dict)  # best first

    def as_json(self) -> dict[str, object]:
        return {
            "pages": {str(pid): [list(facts.topics), round(facts.age_days, 3)] for pid, facts in self.pages.items()},
            "popularity": {str(pid): round(value, 5) for pid, value in self.popularity.items()},
            "popular": self.popular,
            "by_topic": self.by_topic,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> SharedModel:
        pages = data.get("pages") or {}
        popularity = data.get("popularity") or {}
        assert isinstance(pages, dict) and isinstance(popularity, dict)
        return cls(
            pages={int(pid): PageFacts(tuple(topics), float(age)) for pid, (topics, age) in pages.items()},
            popularity={int(pid): float(value) for pid, value in popularity.items()},
            popular=[int(pid) for pid in data.get("popular") or []],  # type: ignore[attr-defined]
            by_topic={str(slug): [int(p) for p in ids] for slug, ids in (data.get("by_topic") or {}).items()},  # type: ignore[attr-defined]
        )


@dataclass
class Model(SharedModel):
    """The shared half and the co-reads, page by page (``neighbours``: [(page, similarity)], best first)."""

    neighbours: dict[int, list[tuple[int, float]]] = field(default_factory=dict)

    def shared(self) -> SharedModel:
        kept = set(self.popular).union(*self.by_topic.values()) if self.by_topic else set(self.popular)
        return SharedModel(
            pages={pid: self.pages[pid] for pid in kept},
            popularity={pid: self.popularity[pid] for pid in kept if pid in self.popularity},
            popular=self.popular,
            by_topic=self.by_topic,
        )


def decay(age_days: float, half_life: float = READ_HALF_LIFE_DAYS) -> float:
    return 0.5 ** (max(age_days, 0.0) / half_life)


def fit(reads: Mapping[Any, Mapping[int, float]], pages: Mapping[int, PageFacts]) -> Model:
    """Learn co-reads, popularity and the per-topic lists from every visitor's reads (page → days since the last
    read), for the published ``pages`` (reads of other pages are ignored)."""
    readers: Counter[int] = Counter()
    pairs: Counter[tuple[int, int]] = Counter()
    recent: defaultdict[int, float] = defaultdict(float)
    for visitor_reads in reads.values():
        known = [(age, pid) for pid, age in visitor_reads.items() if pid in pages]
        if len(known) > READS_PER_VISITOR:
            known = heapq.nsmallest(READS_PER_VISITOR, known)
        ids = sorted(pid for _age, pid in known)
        readers.update(ids)
        pairs.update(combinations(ids, 2))
        for age, pid in known:
            if age <= POPULAR_DAYS:
                recent[pid] += decay(age, POPULAR_DAYS)
    neighbours: defaultdict[int, list[tuple[float, int]]] = defaultdict(list)
    for (a, b), together in pairs.items():
        if together < MIN_CO_READERS:
            continue
        similarity = together / math.sqrt(readers[a] * readers[b])
        neighbours[a].append((similarity, b))
        neighbours[b].append((similarity, a))
    top = max(recent.values(), default=0.0)
    popularity = {pid: value / top for pid, value in recent.items()} if top else {}
    popular = heapq.nlargest(POPULAR_KEPT, popularity, key=lambda pid: (popularity[pid], -pid))
    of_topic: defaultdict[str, list[int]] = defaultdict(list)
    for pid, facts in pages.items():
        for slug in facts.topics:
            of_topic[slug].append(pid)

    def topic_rank(pid: int) -> tuple[float, int]:
        return (popularity.get(pid, 0.0) + NEW_WEIGHT * decay(pages[pid].age_days, NEW_DAYS), -pid)

    return Model(
        pages=dict(pages),
        popularity=popularity,
        popular=popular,
        by_topic={slug: heapq.nlargest(PER_TOPIC, ids, key=topic_rank) for slug, ids in of_topic.items()},
        neighbours={
            pid: [(other, similarity) for similarity, other in heapq.nlargest(NEIGHBOURS, found)]
            for pid, found in neighbours.items()
        },
    )


def topic_affinity(views: Iterable[tuple[str, float, int]], followed: Iterable[str] = ()) -> dict[str, float]:
    """A visitor's interest per topic, 0–1: their topic views (slug, days ago, count), each halving every
    ``READ_HALF_LIFE_DAYS``, relative to their strongest topic; a followed topic counts as the strongest."""
    weights: defaultdict[str, float] = defaultdict(float)
    for slug, age_days, count in views:
        weights[slug] += count * decay(age_days)
    top = max(weights.values(), default=0.0)
    affinity = {slug: weight / top for slug, weight in weights.items()} if top else {}
    for slug in followed:
        affinity[slug] = 1.0
    return affinity


def recommend(
    model: SharedModel,
    *,
    read: Mapping[int, float] | None = None,
    affinity: Mapping[str, float] | None = None,
    followed: Sequence[str] = (),
    limit: int = 10,
) -> list[Pick]:
    """The ``limit`` best unread pages for a visitor who read ``read`` (page → days since) and cares about topics
    as ``affinity`` says (``topic_affinity``), best first, each with its reason. ``read`` needs a full ``Model``
    (co-reads); the shared half ranks by topics and popularity alone."""
    read = read or {}
    affinity = affinity or {}
    neighbours = getattr(model, "neighbours", {})
    co: defaultdict[int, float] = defaultdict(float)
    because: dict[int, tuple[float, int]] = {}
    for pid, age in read.items():
        weight = decay(age)
        for other, similarity in neighbours.get(pid, ()):
            if other in read:
                continue
            contribution = similarity * weight
            co[other] += contribution
            if contribution > because.get(other, (0.0, 0))[0]:
                because[other] = (contribution, pid)
    candidates = set(co)
    strongest = heapq.nlargest(CANDIDATE_TOPICS, affinity, key=lambda slug: (affinity[slug], slug))
    for slug in strongest:
        candidates.update(model.by_topic.get(slug, ()))
    candidates.update(model.popular)
    candidates.difference_update(read)
    top_co = max(co.values(), default=0.0) or 1.0
    followed_set = set(followed)
    scored: list[tuple[float, int, str, str]] = []
    for pid in candidates:
        facts = model.pages.get(pid)
        if facts is None:
            continue
        topic_slug, topic_part = "", 0.0
        for slug in facts.topics:
            if affinity.get(slug, 0.0) > topic_part:
                topic_slug, topic_part = slug, affinity[slug]
        co_part = CO_READ * co.get(pid, 0.0) / top_co
        fresh = decay(facts.age_days, NEW_DAYS)
        topical = TOPIC_WEIGHT * topic_part
        popular = POPULAR_WEIGHT * model.popularity.get(pid, 0.0)
        new = NEW_WEIGHT * fresh * topic_part
        score = co_part + topical + popular + new
        if co_part >= topical and co_part >= popular and co_part > 0:
            kind, subject = READ, str(because[pid][1])
        elif topical >= popular and topic_part > 0:
            is_new = facts.age_days <= NEW_DAYS and topic_slug in followed_set
            kind, subject = (NEW if is_new else TOPIC), topic_slug
        else:
            kind, subject = POPULAR, ""
        scored.append((score, pid, kind, subject))
    best = heapq.nlargest(limit, scored, key=lambda item: (item[0], -item[1]))
    return [Pick(pid, kind, subject) for _score, pid, kind, subject in best]
