"""The signed provider callback: a provider answers a referral (acknowledge, accept, decline,
services started) or closes one it took on with its outcome. No session, no CSRF: the HMAC
over `timestamp.body` with the provider's shared secret is the authentication, and the
timestamp must be within a few minutes.

Body: {"event_id": "...", "referral": "<the referral's idempotency key>", "answer": "accept",
       "reason_code": "", "note": ""}
      {"event_id": "...", "referral": "...", "answer": "close", "outcome": "services_delivered",
       "note": ""}
`event_id` (signed, unique per provider) makes a retried callback return its first answer.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.api.parsers import MAX_JSON_DEPTH, JsonTooDeep, json_loads_limited
from config.errors import InvalidState, NotFound, ValidationError
from referrals.models import ProviderCallbackReceipt, Referral, ServiceProvider
from referrals.services import referral_close, referral_provider_answer
from referrals.services.answers import ANSWERS
from referrals.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

UNAUTHENTICATED = {"detail": "Missing, stale or invalid signature."}
# The answer that closes a referral the provider took on; it carries `outcome`.
CLOSE = "close"
TEXT_KEYS = ("reason_code", "outcome", "note")
CALLBACK_ANSWERS = (*ANSWERS, CLOSE)


def _header(request: HttpRequest, name: str) -> str | None:
    return request.headers.get(name)


@csrf_exempt
@require_POST
def provider_callback(request: HttpRequest, provider_slug: str) -> JsonResponse:
    provider = ServiceProvider.objects.filter(slug=provider_slug, is_active=True).first()
    body = request.body
    # An unknown provider looks exactly like a bad signature.
    if provider is None or not verify(
        secret=provider.webhook_secret,
        timestamp=_header(request, TIMESTAMP_HEADER),
        body=body,
        signature=_header(request, SIGNATURE_HEADER),
        now=time.time(),
        window_seconds=settings.REFERRAL_CALLBACK_WINDOW_SECONDS,
    ):
        return JsonResponse(UNAUTHENTICATED, status=401)
    try:
        data = json_loads_limited(body)
    except JsonTooDeep:
        return JsonResponse(
            {"detail": f"The body nests more than {MAX_JSON_DEPTH} levels deep."}, status=400
        )
    except ValueError:  # UnicodeDecodeError included
        return JsonResponse({"detail": "The body is not JSON."}, status=400)
    if not isinstance(data, dict):
        return JsonResponse({"detail": "The body must be a JSON object."}, status=400)
    problems = {
        key: ["Required text."]
        for key in ("event_id", "referral", "answer")
        if not isinstance(data.get(key), str) or not data.get(key).strip()
    }
    for key in TEXT_KEYS:
        if key in data and not isinstance(data[key], str):
            problems[key] = ["Must be text."]
    for key in ("event_id", "referral", "answer", *TEXT_KEYS):
        # PostgreSQL stores no NUL in text; looking one up would fail, not find nothing.
        if isinstance(data.get(key), str) and "\x00" in data[key]:
            problems[key] = ["Must be text without NUL characters."]
    if "answer" not in problems and data["answer"] not in CALLBACK_ANSWERS:
        problems["answer"] = [f"Choose one of: {', '.join(CALLBACK_ANSWERS)}."]
    if problems:
        return JsonResponse({"detail": "Invalid answer.", "field_errors": problems}, status=400)
    event_id = data["event_id"].strip()[:100]

    with transaction.atomic():
        # One callback per provider at a time: a replay racing its original waits, then sees it.
        ServiceProvider.objects.select_for_update().filter(pk=provider.pk).first()
        receipt = ProviderCallbackReceipt.objects.filter(
            provider=provider, idempotency_key=event_id
        ).first()
        if receipt is not None:
            response = JsonResponse(receipt.response_body, status=receipt.response_status)
            response["Idempotent-Replay"] = "true"
            return response
        referral_id = (
            Referral.objects.filter(idempotency_key=data["referral"], provider=provider)
            .values_list("pk", flat=True)
            .first()
        )
        try:
            if referral_id is None:
                raise NotFound("No such referral.")
            with transaction.atomic():
                if data["answer"] == CLOSE:
                    referral = referral_close(
                        referral_id=referral_id,
                        provider=provider,
                        outcome=data.get("outcome", ""),
                        note=data.get("note", ""),
                    )
                else:
                    referral = referral_provider_answer(
                        referral_id=referral_id,
                        provider=provider,
                        answer=data["answer"],
                        reason_code=data.get("reason_code", ""),
                        note=data.get("note", ""),
                    )
        except NotFound as error:
            return JsonResponse({"detail": error.message}, status=404)
        except ValidationError as error:
            return JsonResponse(
                {"detail": error.message, "field_errors": error.field_errors}, status=400
            )
        except InvalidState as error:
            status, payload = 409, {"detail": error.message}
        else:
            status, payload = 200, {"referral": referral.idempotency_key, "status": referral.status}
        ProviderCallbackReceipt.objects.create(
            provider=provider,
            idempotency_key=event_id,
            referral_id=referral_id,
            response_status=status,
            response_body=payload,
        )
    return JsonResponse(payload, status=status)
