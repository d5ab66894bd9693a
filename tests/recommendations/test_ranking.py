"""The recommender on plain data (``recommendations.ranking``): what a visitor gets first, and why."""

from __future__ import annotations

from tailored_cms.recommendations.ranking import NEW, POPULAR, READ, TOPIC, PageFacts, fit, recommend, topic_affinity

TECH = {1, 2, 3, 4, 5, 6}
SPORTS = {11, 12, 13, 14, 15, 16}


def pages(new: set[int] = frozenset()) -> dict[int, PageFacts]:
    facts = {pid: PageFacts(("technology",), 1.0 if pid in new else 30.0) for pid in TECH}
    facts.update({pid: PageFacts(("sports",), 30.0) for pid in SPORTS})
    return facts


def log() -> dict[str, dict[int, float]]:
    """Technology readers read 1–5 together; sports pages are what most visitors read (the popular ones)."""
    reads: dict[str, dict[int, float]] = {}
    for n in range(6):
        reads[f"tech-{n}"] = {1: 2.0, 2: 2.0, 3: 2.0, 4: 1.0, 5: 1.0}
    for n in range(20):
        reads[f"sport-{n}"] = {11: 1.0, 12: 1.0, 13: 1.0, 14: 2.0}
    return reads


def affinity_of(facts, read):
    return topic_affinity((slug, age, 1) for pid, age in read.items() for slug in facts[pid].topics)


def test_a_visitor_who_read_three_technology_articles_gets_unread_technology_pages_first_with_why():
    facts = pages()
    model = fit(log(), facts)
    read = {1: 0.5, 2: 0.5, 3: 0.5}
    picks = recommend(model, read=read, affinity=affinity_of(facts, read), limit=5)
    assert {pick.page_id for pick in picks[:3]} == {4, 5, 6}
    assert not {pick.page_id for pick in picks} & set(read)  # nothing already read
    by_page = {pick.page_id: pick for pick in picks}
    assert by_page[4].kind == READ and by_page[4].subject in {"1", "2", "3"}  # readers of what they read read it
    assert by_page[6].kind == TOPIC and by_page[6].subject == "technology"  # never co-read: by its topic


def test_the_most_popular_pages_lead_without_the_visitors_topics():
    facts = pages()
    model = fit(log(), facts)
    assert [pick.page_id for pick in recommend(model, limit=3)] == [11, 12, 13]
    assert {pick.kind for pick in recommend(model, limit=3)} == {POPULAR}


def test_a_new_page_in_a_followed_topic_says_so():
    facts = pages(new={6})
    model = fit(log(), facts).shared()  # what the endpoint has for a visitor it may not track
    picks = recommend(model, affinity=topic_affinity((), ["technology"]), followed=["technology"], limit=3)
    assert picks[0].page_id == 6 and picks[0].kind == NEW and picks[0].subject == "technology"


def test_topic_views_fade_and_followed_topics_count_fully():
    affinity = topic_affinity([("sports", 0.0, 2), ("travel", 28.0, 4)], followed=["cooking"])
    assert affinity["sports"] == 1.0
    assert affinity["travel"] == 0.5  # 4 views four weeks ago weigh as 1 today: half of sports' 2
    assert affinity["cooking"] == 1.0


def test_the_shared_half_survives_json():
    from tailored_cms.recommendations.ranking import SharedModel

    shared = fit(log(), pages()).shared()
    again = SharedModel.from_json(shared.as_json())
    assert again.popular == shared.popular and again.by_topic == shared.by_topic
    assert again.pages[11] == shared.pages[11]
