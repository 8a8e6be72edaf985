from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication


class SessionAuthentication401(SessionAuthentication):
    """Session auth that answers an anonymous request with 401, not 403.

    DRF sends 403 when the first authentication class offers no WWW-Authenticate challenge;
    "who are you?" (401) and "you may not" (403) must stay distinguishable for API clients.
    """

    def authenticate_header(self, request) -> str:
        return 'Session realm="api"'


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <prefix>.<secret>` with a personal API token (config.models.ApiToken).

    A request without a Bearer header is left to the next class (the browser's session); a
    Bearer token that is unknown, wrong, expired or revoked is refused with 401, always with
    the same message.
    """

    keyword = "bearer"

    def authenticate(self, request):
        from config.tokens import api_token_authenticate

        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != self.keyword:
            return None
        credentials = credentials.strip()
        token = api_token_authenticate(credentials) if credentials else None
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API token.")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
