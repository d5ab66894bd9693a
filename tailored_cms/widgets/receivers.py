"""Topics changed: the cached copies of what shows them are dropped at once, not after the caches' TTL. And the
ingest's new page views are counted as topic views.

A topic feed lists the pages tagged with topics, and the preferences panel the topics themselves; django CMS
keeps rendered placeholders and pages in its caches (a copy per language), which know nothing of tagging. So when
a page's topics, or a topic or its name in any language, change: every placeholder holding a feed or a panel is
cleared from the placeholder cache in each of its languages, and the page cache is invalidated (django CMS does the
same when a page is published). Editors' actions, rare: the cost is a query and a cache write per such placeholder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cms.cache import invalidate_cms_page_cache
from cms.models import CMSPlugin, Placeholder
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from ..signals import events_stored
from ..tracking.ingest import StoredEvent
from ..visitors.models import Topic
from .models import PageTopics
from .topic_views import count_topic_views

SHOWS_TOPICS = ("TopicFeedPlugin", "PreferencesPanelPlugin")


def forget_cached_topics() -> None:
    """Clear the cached placeholders that show topics or tagged pages, and the CMS page cache."""
    shown = CMSPlugin.objects.filter(plugin_type__in=SHOWS_TOPICS)
    languages: dict[int, set[str]] = {}
    for placeholder_id, language in shown.values_list("placeholder_id", "language").distinct():
        languages.setdefault(placeholder_id, set()).add(language)
    for placeholder in Placeholder.objects.filter(pk__in=languages):
        for language in languages[placeholder.pk]:
            placeholder.clear_cache(language)
    invalidate_cms_page_cache()


def _after_commit(**_kwargs: Any) -> None:
    transaction.on_commit(forget_cached_topics)


@receiver(m2m_changed, sender=PageTopics.topics.through, dispatch_uid="tailored_cms.page_tagged")
def on_page_tagged(action: str, **kwargs: Any) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        _after_commit()


post_delete.connect(_after_commit, sender=PageTopics, dispatch_uid="tailored_cms.page_topics_deleted")
post_save.connect(_after_commit, sender=Topic, dispatch_uid="tailored_cms.topic_saved")
post_delete.connect(_after_commit, sender=Topic, dispatch_uid="tailored_cms.topic_deleted")
# A name or description in one language (the admin's tab, the API's ``names``) is saved as a translation.
TopicTranslation = Topic._parler_meta.root_model
post_save.connect(_after_commit, sender=TopicTranslation, dispatch_uid="tailored_cms.topic_translation_saved")
post_delete.connect(_after_commit, sender=TopicTranslation, dispatch_uid="tailored_cms.topic_translation_deleted")


@receiver(events_stored, dispatch_uid="tailored_cms.count_topic_views")
def on_events_stored(sender: Any, events: Sequence[StoredEvent], **kwargs: Any) -> None:
    count_topic_views(events)
