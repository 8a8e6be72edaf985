"""Domain errors of the referrals app. They extend the domain errors of config/errors.py, so
views and the API map them in the same one place (NotFound → 404, ActionNotAllowed → 403,
InvalidState → 409)."""

from config.errors import InvalidState, NotFound


class ReferralNotFound(NotFound):
    def __init__(self, message: str = "No such referral.") -> None:
        super().__init__(message)


class IllegalTransition(InvalidState):
    """The referral's state machine does not allow this step."""

    def __init__(self, from_status: str, to_status: str) -> None:
        super().__init__(f"A referral cannot go from {from_status} to {to_status}.")
        self.from_status = from_status
        self.to_status = to_status


class DeliveryRetry(Exception):
    """A delivery attempt failed in a way worth retrying; the attempt is already recorded.
    `countdown` is the backoff chosen for the next attempt."""

    def __init__(self, *, referral_id: int, countdown: float, reason: str) -> None:
        super().__init__(f"referral {referral_id}: {reason}; retry in {countdown:.1f}s")
        self.referral_id = referral_id
        self.countdown = countdown
        self.reason = reason


class RoutingRuleSetNotFound(NotFound):
    def __init__(self, message: str = "No such version of the routing rules.") -> None:
        super().__init__(message)


class ProviderNotFound(NotFound):
    def __init__(self, message: str = "No such provider.") -> None:
        super().__init__(message)
