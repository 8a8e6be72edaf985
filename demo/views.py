"""The embedded demo's windows on the outside world: the mail the service sent and the
webhook deliveries the built-in receiver took. Local and test profiles only (the demo app is
not installed in production). Any signed-in member may read them: they stand in for the
providers' own mailboxes and systems, which in the demo hold fictional data only."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from demo.outside import mail_messages, webhook_deliveries
from referrals.models import ServiceProvider
from screening.views._common import render_page


@login_required
def mailbox(request: HttpRequest) -> HttpResponse:
    return render_page(
        request,
        "demo/mailbox.html",
        {
            "messages_sent": mail_messages(Path(settings.EMAIL_FILE_PATH)),
            "folder": settings.EMAIL_FILE_PATH,
        },
    )


@login_required
def webhooks(request: HttpRequest) -> HttpResponse:
    deliveries = webhook_deliveries(Path(settings.DEMO_WEBHOOK_DIR))
    # The providers' names, in one query (the receiver records the address's slug).
    fail_first = settings.DEMO_RECEIVER_FAIL_FIRST
    slugs = {d.provider for d in deliveries} | set(fail_first)
    names = dict(ServiceProvider.objects.filter(slug__in=slugs).values_list("slug", "name"))
    return render_page(
        request,
        "demo/webhooks.html",
        {
            "deliveries": [
                (
                    delivery,
                    names.get(delivery.provider, delivery.provider),
                    json.dumps(delivery.body, indent=2, sort_keys=True),
                )
                for delivery in deliveries
            ],
            "port": settings.DEMO_RECEIVER_PORT,
            "fail_first": [names.get(slug, slug) for slug in fail_first],
        },
    )
