"""Sign-in lockout: after LOCKOUT_FAILURE_LIMIT failed sign-ins for one username, or from one
client address, within LOCKOUT_WINDOW_MINUTES, sign-in is refused for that username (or from
that address) for LOCKOUT_MINUTES. django-axes does the plumbing (its authentication backend
refuses before any password is checked, its middleware turns the refusal into a page); this
module is the axes handler that counts, and the page.

Why a handler of our own: axes's database handler keeps one row per username, address and
browser with a running count and the time of the *last* failure, and forgets the row only
once that last failure is older than the cool-off. That is a chain, not a window: five
failures an hour apart lock as surely as five in a minute, and the lock's length is the
same setting as the counting period. This handler keeps one row per failure (axes's
`AccessFailureLog`) and counts the rows of the last LOCKOUT_WINDOW_MINUTES: a sliding
window. The failure that reaches the limit is marked `locked_out`; the lock lasts
LOCKOUT_MINUTES from it. Attempts during the lock are refused without a password check and
not counted: they do not extend the lock, so the time the page gives stays true.

Client address: `REMOTE_ADDR` only (forwarded-for headers are whatever the client sent; the
access log does the same). Unknown usernames count and lock exactly like real ones, so the
answer never tells whether an account exists. Rows older than the longer of the window and
the lock are deleted as failures come in: they only ever served to count.

Two failures at the same instant may both count the rows before either is written, so the
lock can come one attempt late; never earlier, never not at all.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from datetime import datetime, timedelta

from axes.handlers.base import AbstractAxesHandler, AxesBaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_username, get_failure_limit, get_lockout_parameters
from axes.models import AccessFailureLog
from axes.signals import user_locked_out
from axes.utils import reset as axes_reset
from django.conf import settings
from django.db import router, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

logger = logging.getLogger(__name__)

LOCKED_OUT_TEMPLATE = "registration/locked_out.html"


def lockout_window() -> timedelta:
    return timedelta(minutes=settings.LOCKOUT_WINDOW_MINUTES)


def lockout_duration() -> timedelta:
    return timedelta(minutes=settings.LOCKOUT_MINUTES)


def client_ip(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: `REMOTE_ADDR` when it is an address, else None (then only
    the username counts)."""
    try:
        return str(ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return None


def _client_filters(request: HttpRequest, credentials: dict | None) -> list[Q]:
    """One filter per lockout parameter (AXES_LOCKOUT_PARAMETERS: "username", "ip_address"
    or a combination); a parameter the request lacks (no address, no username) counts
    nothing rather than lumping every such request together."""
    values = {
        "username": get_client_username(request, credentials),
        "ip_address": request.axes_ip_address,
        "user_agent": request.axes_user_agent,
    }
    filters = []
    for parameter in get_lockout_parameters(request, credentials):
        names = [parameter] if isinstance(parameter, str) else list(parameter)
        if all(values[name] is not None for name in names):
            filters.append(Q(**{name: values[name] for name in names}))
    return filters


class SlidingWindowHandler(AbstractAxesHandler, AxesBaseHandler):
    """AXES_HANDLER: failures counted in a sliding window, a fixed-length lock (see the
    module docstring)."""

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        """Failures in the window for the most-failed lockout parameter: one query."""
        filters = _client_filters(request, credentials)
        if not filters:
            return 0
        since = request.axes_attempt_time - lockout_window()
        counts = AccessFailureLog.objects.filter(attempt_time__gt=since).aggregate(
            **{f"by_{index}": Count("pk", filter=q) for index, q in enumerate(filters)}
        )
        return max(counts.values())

    def locked_until(
        self, request: HttpRequest, credentials: dict | None = None
    ) -> datetime | None:
        """When the lock on this username or address ends, None when there is none: one
        query."""
        filters = _client_filters(request, credentials)
        if not filters:
            return None
        any_parameter = filters[0]
        for q in filters[1:]:
            any_parameter |= q
        since = request.axes_attempt_time - lockout_duration()
        locked_at = AccessFailureLog.objects.filter(
            any_parameter, locked_out=True, attempt_time__gt=since
        ).aggregate(at=Max("attempt_time"))["at"]
        return locked_at + lockout_duration() if locked_at else None

    def is_locked(self, request: HttpRequest, credentials: dict | None = None) -> bool:
        return self.locked_until(request, credentials) is not None

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        if request is None:  # authenticate() called without a request: nothing to count by
            return
        if request.axes_locked_out:  # refused by the backend: no password was checked
            self._locked_out(request, credentials)
            return
        if self.is_whitelisted(request, credentials):
            return
        failures = self.get_failures(request, credentials) + 1
        locked = failures >= get_failure_limit(request, credentials)
        username = get_client_username(request, credentials)
        with transaction.atomic(using=router.db_for_write(AccessFailureLog)):
            AccessFailureLog.objects.filter(
                attempt_time__lte=request.axes_attempt_time
                - max(lockout_window(), lockout_duration())
            ).delete()
            AccessFailureLog.objects.create(
                username=username[:255] if username else username,
                ip_address=request.axes_ip_address,
                user_agent=request.axes_user_agent,
                http_accept=request.axes_http_accept,
                path_info=request.axes_path_info,
                locked_out=locked,
            )
        if locked:
            # Neither the username nor the address: the access log has the request.
            logger.warning("sign-in locked after %d failures in the window", failures)
            self._locked_out(request, credentials)

    def _locked_out(self, request: HttpRequest, credentials: dict | None) -> None:
        request.axes_locked_out = True
        request.axes_credentials = credentials
        user_locked_out.send(
            "axes",
            request=request,
            username=get_client_username(request, credentials),
            ip_address=request.axes_ip_address,
        )

    def user_logged_in(self, sender, request, user, **kwargs) -> None:
        """A successful sign-in clears that username's own failures (AXES_RESET_ON_SUCCESS),
        not the address's others: an account of one's own must not wipe the count of
        guesses at someone else's."""
        if settings.AXES_RESET_ON_SUCCESS:
            AccessFailureLog.objects.filter(username=user.get_username()).delete()

    def user_logged_out(self, sender, request, user, **kwargs) -> None:
        pass

    def reset_attempts(
        self,
        *,
        ip_address: str | None = None,
        username: str | None = None,
        ip_or_username: bool = False,
    ) -> int:
        """What `axes.utils.reset` and the `axes_reset*` commands call: forget the failures
        (so lift the locks) of an address and/or a username; with neither, all."""
        failures = AccessFailureLog.objects.all()
        if ip_or_username:
            failures = failures.filter(Q(ip_address=ip_address) | Q(username=username))
        else:
            if ip_address:
                failures = failures.filter(ip_address=ip_address)
            if username:
                failures = failures.filter(username=username)
        count, _ = failures.delete()
        return count

    def reset_failure_logs(self, *, age_days: int | None = None) -> int:
        failures = AccessFailureLog.objects.all()
        if age_days is not None:
            failures = failures.filter(attempt_time__lte=timezone.now() - timedelta(days=age_days))
        count, _ = failures.delete()
        return count


def lockout_usernames_locked(*, at: datetime | None = None) -> QuerySet:
    """The usernames locked now (by username; a lock on an address names nobody), as a
    subquery-ready values list."""
    since = (at or timezone.now()) - lockout_duration()
    return (
        AccessFailureLog.objects.filter(locked_out=True, attempt_time__gt=since)
        .exclude(username=None)
        .values("username")
    )


def lockout_reset_username(*, username: str) -> int:
    """Lift the lock on `username` (and forget its failures) through axes's reset utility.
    A lock on an address stays until it ends (or a superuser lifts it: `axes_reset_ip`)."""
    return axes_reset(username=username)


def lockout_response(
    request: HttpRequest, original_response=None, credentials: dict | None = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: a calm page (429, Retry-After) saying when to try again and
    who can help. It never repeats the username, and reads the same whether the account
    exists or not."""
    handler = AxesProxyHandler.get_implementation()
    now = request.axes_attempt_time
    until = None
    if isinstance(handler, SlidingWindowHandler):
        until = handler.locked_until(request, credentials)
    until = until or now + lockout_duration()
    seconds = max(1, math.ceil((until - now).total_seconds()))
    response = render(
        request,
        LOCKED_OUT_TEMPLATE,
        {"until": until, "minutes": max(1, round(seconds / 60))},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    response["Retry-After"] = str(seconds)
    return response
