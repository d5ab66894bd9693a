"""Segments in the REST API, for staff: the list, and "how many visitors match?" for a rule tree not yet saved.

Both need a staff user who may view, add or change segments (``tailored_cms.view_segment``, ``add_segment`` or
``change_segment``: as in the admin, changing implies viewing, and the rule builder of the add form counts too);
the preview is a POST, so it needs the CSRF token too (``VisitorAPIView``). The admin's rule builder calls the
preview after each change.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count
from django.utils.text import format_lazy, get_text_list
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from ..rules.evaluation import Scope, expand, is_request_time, kleene
from ..rules.models import Segment, validate_rules
from ..rules.registry import Rule, RuleError, registered_rules
from ..rules.trees import describe_tree, iter_leaves
from ..translations import by_name
from ..visitors.models import Visitor
from .base import MAX_BODY_BYTES, VisitorAPIView, VisitorAuthentication

__all__ = [
    "CanViewSegments",
    "SegmentPreviewSerializer",
    "SegmentPreviewView",
    "SegmentSerializer",
    "SegmentsView",
    "StaffAuthentication",
    "preview_segment",
]

PERMISSION = "tailored_cms.view_segment"
# Any of these lets a staff user in: the admin's segment forms, with their rule builder, are theirs too.
PERMISSIONS = (PERMISSION, "tailored_cms.add_segment", "tailored_cms.change_segment")


class StaffAuthentication(VisitorAuthentication):
    """The signed-in user's session, CSRF checked on unsafe methods (as ``VisitorAuthentication``).

    A class of its own so that the schema says what these endpoints need: a staff user's session cookie, not the
    visitor cookie.
    """


class StaffAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the schema describes ``StaffAuthentication``: Django's session cookie, of a user signed in as staff."""

    target_class = StaffAuthentication
    name = "staffSession"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": f"The session of a staff user with {' or '.join(PERMISSIONS)} (signed in to the admin). "
            "Unsafe methods "
            "need X-CSRFToken.",
        }


class CanViewSegments(BasePermission):
    """A staff user who may view, add or change segments in the admin (``PERMISSIONS``)."""

    message = format_lazy(
        _(
            "Only staff with the permission to view, add or change segments ({permission}, add_segment or "
            "change_segment) may do this."
        ),
        permission=PERMISSION,
    )

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(
            user
            and user.is_authenticated
            and user.is_staff
            and any(user.has_perm(permission) for permission in PERMISSIONS)
        )


class SegmentSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    enabled = serializers.BooleanField()
    size = serializers.IntegerField(
        allow_null=True,
        help_text="Visitors in it at the last recompute (those in it only on some page views included); "
        "null before the first one, and for segments made only of rules checked on each page view.",
    )
    computed_at = serializers.DateTimeField(allow_null=True, help_text="When the last recompute finished.")
    recompute_running = serializers.BooleanField(help_text="A recompute of it has started and not finished.")
    rules = serializers.JSONField(help_text="The rule tree.")
    in_words = serializers.CharField(help_text="The rule tree as a sentence.")


class PreviewRequestSerializer(serializers.Serializer):
    rules = serializers.JSONField(help_text='A rule tree: {"all": [...]}, {"any": [...]}, {"not": {...}}, leaves.')
    segment = serializers.SlugField(
        required=False,
        allow_blank=True,
        help_text="The slug of the segment being edited, if any: a reference back to it is refused as a cycle.",
    )


class SegmentPreviewSerializer(serializers.Serializer):
    matching = serializers.IntegerField(
        help_text="Visitors who match now. With rules checked on each page view: who matches the rest, i.e. who is "
        "in the segment on the page views where those hold (all visitors if every rule is one)."
    )
    certain = serializers.IntegerField(help_text="Visitors who match whatever the page view.")
    total = serializers.IntegerField(help_text="All visitors.")
    per_page_view = serializers.ListField(
        child=serializers.CharField(), help_text="Names of the rules in the tree checked on each page view."
    )
    everyone = serializers.BooleanField(
        help_text="Every rule is checked on each page view: any visitor may match, decided per page view."
    )
    summary = serializers.CharField(help_text='For the editor: "12 of 340 visitors match now."')
    in_words = serializers.CharField(help_text="The rule tree as a sentence.")
    rules = serializers.JSONField(help_text="The rule tree as it would be saved (parameters cleaned).")


def preview_segment(rules: Any, *, segment: str | None = None) -> dict[str, Any]:
    """How many visitors match ``rules`` now, and of how many; raises ``ValidationError`` naming what is wrong.

    Rules checked on each page view (device, time…) can't be counted ahead: like a segment's size, ``matching``
    counts the visitors for whom the rest of the tree holds (Kleene logic: such rules are unknown), ``certain``
    those in it on every page view. Cost: one query to count (all three numbers); with ``segment`` references,
    two more (the definitions, read by the validation and for the expansion); and for the words, one for the names
    of topics, one for those of segments, when a rule names one.
    """
    cleaned = validate_rules(rules, segment=segment or None)
    definitions: dict[str, Any] = {}
    if any(leaf["rule"] == "segment" for leaf in iter_leaves(cleaned)):
        definitions = dict(Segment.objects.values_list("slug", "rules"))
        if segment:
            definitions[segment] = cleaned  # a segment referencing this one sees its new rules
    tree = expand(cleaned, definitions, (segment,) if segment else ())
    certain, possible = kleene(tree, Scope())
    counts = Visitor.objects.aggregate(
        total=Count("pk"), matching=Count("pk", filter=possible), certain=Count("pk", filter=certain)
    )
    total, matching = counts["total"], counts["matching"]
    registry = registered_rules()
    per_page_view = sorted(
        {
            leaf["rule"]
            for leaf in iter_leaves(tree)
            if leaf["rule"] in registry and not registry[leaf["rule"]].behavioural
        }
    )
    everyone = is_request_time(tree)
    return {
        "matching": matching,
        "certain": counts["certain"],
        "total": total,
        "per_page_view": per_page_view,
        "everyone": everyone,
        "summary": _summary(matching, total, [registry[name] for name in per_page_view], everyone),
        "in_words": describe_tree(cleaned),
        "rules": cleaned,
    }


def _summary(matching: int, total: int, per_page_view: list[Rule], everyone: bool) -> str:
    """The preview in a sentence or two: how many match of how many, and which rules are left to each page view."""
    quoted = [
        pgettext("a rule's name, quoted in a sentence", "“%(rule)s”") % {"rule": rule.display_label()}
        for rule in per_page_view
    ]
    checked = str(get_text_list(quoted, gettext("and")))
    if everyone:
        return (
            ngettext("Any of the %(total)s visitor may match:", "Any of the %(total)s visitors may match:", total)
            % {"total": total}
            + " "
            + ngettext(
                "%(rules)s is checked on each page view, not counted ahead.",
                "%(rules)s are checked on each page view, not counted ahead.",
                len(per_page_view),
            )
            % {"rules": checked}
        )
    summary = ngettext(
        "%(matching)s of %(total)s visitor matches now.", "%(matching)s of %(total)s visitors match now.", total
    ) % {"matching": matching, "total": total}
    if per_page_view:
        summary += " " + ngettext(
            "%(rules)s is checked on each page view: they are in it when it holds.",
            "%(rules)s are checked on each page view: they are in it when it holds.",
            len(per_page_view),
        ) % {"rules": checked}
    return summary


# The session is the only way in, but the schema lists "none" beside it, as for the visitor endpoints: without
# a staff session the answer is the documented 403 (a permission, not a missing credential).
# (extend_schema's auth takes security requirements, as its get_auth returns them; its annotation says strings.)
_AUTH: list[dict[str, list[str]]] = [{"staffSession": []}, {}]
_DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
_DENIED = OpenApiResponse(
    _DETAIL,
    description=f"Not staff with {PERMISSION}, or (POST) a missing or wrong CSRF token.",
)


class StaffSegmentsView(VisitorAPIView):
    """Base of the segments endpoints: staff who may view, add or change segments only."""

    authentication_classes = [StaffAuthentication]
    permission_classes = [CanViewSegments]

    def permission_denied(self, request: Request, message: str | None = None, code: str | None = None) -> NoReturn:
        # The same 403 and message for anonymous visitors as for other users (DRF would say "credentials").
        raise exceptions.PermissionDenied(CanViewSegments.message)


@extend_schema(
    auth=_AUTH,  # type: ignore[arg-type]
    responses={200: SegmentSerializer(many=True), 403: _DENIED},
    summary="Segments (staff)",
)
class SegmentsView(StaffSegmentsView):
    """Every segment, named in the request's language, with its size, when it was last computed and whether a
    recompute runs. Cost: two queries."""

    def get(self, request: Request) -> Response:
        names = by_name(Segment.objects.names())
        segments = Segment.objects.in_bulk(list(names), field_name="slug")
        rows = [
            {
                "slug": slug,
                "name": names[slug],
                "enabled": segment.enabled,
                "size": segment.size,
                "computed_at": segment.computed_at,
                "recompute_running": segment.recompute_running,
                "rules": segment.rules,
                "in_words": describe_tree(segment.rules),
            }
            for slug in names
            if (segment := segments.get(slug)) is not None  # deleted between the two queries
        ]
        return Response(SegmentSerializer(rows, many=True).data)


@extend_schema(
    auth=_AUTH,  # type: ignore[arg-type]
    request=PreviewRequestSerializer,
    responses={
        200: SegmentPreviewSerializer,
        400: OpenApiResponse(
            {
                "type": "object",
                "properties": {
                    "rules": {"type": "array", "items": {"type": "string"}},
                    "invalid": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"rule": {"type": "string"}, "parameter": {"type": "string"}},
                            "required": ["rule", "parameter"],
                        },
                    },
                },
                "additionalProperties": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
            },
            description="An invalid rule tree: messages in the request's language, and which rule type and parameter "
            '("" for the rule as a whole) they are about: '
            "{\"rules\": [\"Rule 'topic_views': parameter 'min' must be at least 1, not 0.\"], "
            '"invalid": [{"rule": "topic_views", "parameter": "min"}]}; or bad JSON ({"detail": ...}).',
        ),
        403: _DENIED,
        413: OpenApiResponse(_DETAIL, description=f"Body larger than {MAX_BODY_BYTES} bytes."),
        415: OpenApiResponse(_DETAIL, description="A body that is not application/json."),
    },
    summary="How many visitors match a rule tree now (staff; before saving a segment)",
)
class SegmentPreviewView(StaffSegmentsView):
    """Validate a rule tree and count the visitors matching it now, of all visitors (``preview_segment``)."""

    def post(self, request: Request) -> Response:
        incoming = PreviewRequestSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            preview = preview_segment(
                incoming.validated_data["rules"], segment=incoming.validated_data.get("segment") or None
            )
        except DjangoValidationError as exc:
            detail: dict[str, Any] = {"rules": exc.messages}
            if isinstance(exc, RuleError):  # which field the builder marks, whatever the message's language
                detail["invalid"] = [{"rule": exc.rule, "parameter": exc.param}]
            raise exceptions.ValidationError(detail) from exc
        return Response(SegmentPreviewSerializer(preview).data)
