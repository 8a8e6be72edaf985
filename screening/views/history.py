"""A case's change history page (supervisors of the case's agency): what changed, who changed
it and when, for the case and everything that hangs off it, referrals included."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from referrals.selectors import referral_change_rows
from screening.history import CHANGES_LIMIT, case_change_history
from screening.views._common import list_page, render_page

CHANGES_PER_PAGE = 50
# Newest first; the history is read whole (at most CHANGES_LIMIT) and paged in memory.
CHANGES_ORDER = (("-at", datetime), ("-source", int), ("-history_id", int))


@login_required
def case_changes(request: HttpRequest, reference: str) -> HttpResponse:
    """The newest changes first; encrypted fields say only that they changed."""
    history = case_change_history(
        user=request.user, case=reference, more=[referral_change_rows], limit=CHANGES_LIMIT
    )
    page = list_page(
        request,
        history.changes,
        per_page=CHANGES_PER_PAGE,
        ordering=CHANGES_ORDER,
        count_up_to=CHANGES_LIMIT,
    )
    return render_page(
        request,
        "screening/case_changes.html",
        {
            "reference": history.case.reference,
            "page": page,
            "limit": CHANGES_LIMIT,
            "limited": len(history.changes) >= CHANGES_LIMIT,
        },
    )
