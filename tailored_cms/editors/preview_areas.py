"""What a preview changes on a page: each of its tailored areas, whether the previewed visitor sees something of
their own there, and if not, why not (for the "Preview as…" form, under the preview that is on)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cms.models import PageContent, PageUrl
from django.utils import timezone
from django.utils.translation import get_language, get_language_from_path
from django.utils.translation import gettext as _

from ..areas.explanation import live_areas
from ..areas.models import TailoredArea, Variant
from ..areas.windows import is_live
from ..rules.models import Segment
from ..rules.trees import iter_leaves
from ..visitors.models import Topic
from .preview import Preview

__all__ = ["AreaChange", "area_changes"]


@dataclass(frozen=True)
class AreaChange:
    """An area of the page: its label, and what the preview shows there or why it shows what everyone sees."""

    label: str
    changes: bool
    why: str


def area_changes(path: str, preview: Preview) -> list[AreaChange]:
    """The tailored areas of the CMS page at ``path`` (e.g. ``/en/sports/``) under ``preview``; ``[]`` when the
    path is no page's. Cost: 4 to 6 queries."""
    prefix = get_language_from_path(path)
    language = prefix or get_language()
    slug = path.strip("/").removeprefix(prefix or "").strip("/")
    url = PageUrl.objects.filter(path=slug, language=language).select_related("page").first()
    content = PageContent.objects.filter(page=url.page, language=language).first() if url else None
    if content is None:
        return []
    areas = live_areas().filter(placeholder__in=content.get_placeholders()).order_by("placeholder", "position")
    variants: dict[int, list[Variant]] = {}
    for variant in Variant.objects.filter(parent__in=areas).order_by("position"):
        variants.setdefault(variant.parent_id, []).append(variant)
    segments = {segment.slug: segment for segment in Segment.objects.filter(slug__in=preview.segments)}
    topic_names = Topic.objects.names()
    at = preview.as_on or timezone.now()
    return [
        _change(label, area, variants.get(area.pk, []), preview, segments, topic_names, at)
        for area in areas
        for label in [area.label or str(area.get_strategy_display())]
    ]


def _change(
    label: str,
    area: TailoredArea,
    variants: list[Variant],
    preview: Preview,
    segments: dict[str, Segment],
    topic_names: dict[str, str],
    at: datetime,
) -> AreaChange:
    """What ``preview`` shows in ``area``, or why it shows what everyone sees."""
    if not is_live(area, at):
        return AreaChange(label, False, _("outside its campaign window"))
    live = [variant for variant in variants if is_live(variant, at)]
    by_topics = area.strategy in ("customization", "hybrid")  # hybrid: the visitor's choices first, then segments
    by_segments = area.strategy in ("personalization", "hybrid")
    chosen = [variant for variant in live if set(variant.topics) & set(preview.topics)] if by_topics else []
    if chosen:
        return AreaChange(
            label, True, _("shows “%(variant)s”: it follows the topics chosen") % {"variant": chosen[0].label}
        )
    chosen = [variant for variant in live if set(variant.segments) & set(preview.segments)] if by_segments else []
    if chosen:
        return AreaChange(label, True, _("shows “%(variant)s”, for this segment") % {"variant": chosen[0].label})
    if by_topics:
        targeted = {topic for variant in live for topic in variant.topics}
        for segment in segments.values():
            read = {leaf.get("topic") for leaf in iter_leaves(segment.rules)}
            for topic in sorted(targeted & read):
                return AreaChange(
                    label,
                    False,
                    _("targets the topic %(topic)s, not the segment %(segment)s: preview the topic too")
                    % {"topic": topic_names.get(topic, topic), "segment": segment.name},
                )
    if by_segments:
        return AreaChange(label, False, _("no variant for this segment"))
    if by_topics:
        return AreaChange(label, False, _("a customization area: follows the visitor's choices"))
    return AreaChange(label, False, _("the same for every segment: its strategy doesn't look at segments"))
