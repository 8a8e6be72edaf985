"""The home page of each role: counts of what waits for the person, each linking to its list."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from referrals.home import home_sections
from screening.views._common import render_page


@login_required
def home_page(request: HttpRequest) -> HttpResponse:
    if not request.user.agency_id:
        return render_page(request, "referrals/home.html", {"sections": []})
    return render_page(
        request, "referrals/home.html", {"sections": home_sections(user=request.user)}
    )
