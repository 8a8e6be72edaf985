from rest_framework.authentication import SessionAuthentication


class SessionAuthentication401(SessionAuthentication):
    """Session auth that answers an anonymous request with 401, not 403.

    DRF sends 403 when the first authentication class offers no WWW-Authenticate challenge;
    "who are you?" (401) and "you may not" (403) must stay distinguishable for API clients.
    """

    def authenticate_header(self, request) -> str:
        return 'Session realm="api"'
