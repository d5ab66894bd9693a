"""The events bench's baseline: the same batches, checked the same way, each event inserted as an ``Event`` row
through the ORM (what an endpoint without the Redis stream would do). A plain Django view: less framework than
``events/`` (a DRF view), so the comparison doesn't flatter it.
"""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tailored_cms.tracking.beacon_batch import BadBatch, parse_batch
from tailored_cms.tracking.models import Event
from tailored_cms.visitors.consent import tracking_allowed


@csrf_exempt
@require_POST
def baseline_events(request: HttpRequest) -> JsonResponse:
    context = request.tailored  # type: ignore[attr-defined]  # the middleware read the snapshot (one round trip)
    try:
        batch = parse_batch(request.body, now=timezone.now(), user_agent=request.headers.get("User-Agent", ""))
    except BadBatch as exc:
        return JsonResponse(exc.as_dict(), status=400)
    if context.visitor_id is None or not tracking_allowed(request, context.snapshot):
        return JsonResponse({"accepted": 0, "tracking": False}, status=202)
    for event in batch.events:
        Event.objects.create(
            id=event.id, visitor_id=context.visitor_id, name=event.name, ts=event.ts, props=event.props
        )
    return JsonResponse({"accepted": len(batch), "tracking": True}, status=202)
