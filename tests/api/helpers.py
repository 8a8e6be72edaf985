"""Helpers for the API tests."""

from rest_framework.test import APIClient

from screening import services
from screening.models import User


def client_for(user: User) -> APIClient:
    """An API client authenticating like an integration: a fresh Bearer token."""
    created = services.api_token_create(user=user, name="contact-centre", days=30)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.plaintext}")
    return client


def assert_problem(response, status: int) -> dict:
    """The response is an RFC 9457 problem with `status`; returns its body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    return body


def error_fields(response) -> list[str]:
    return [error["field"] for error in response.json().get("errors", [])]
