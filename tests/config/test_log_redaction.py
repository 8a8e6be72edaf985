"""No log record carries an exception's message (it may quote case data): the traceback's
frames stay, each message is replaced by the exception's type."""

import logging

import pytest

from config.log_redaction import WITHHELD, exception_text
from screening.roles import Role
from tests.api.helpers import client_for
from tests.factories import AgencyFactory, UserFactory

SECRET = "Fictional Quorvane Person"


def _formatted(caplog) -> str:
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def test_a_logged_exception_keeps_its_frames_and_type_but_not_its_message(caplog):
    logger = logging.getLogger("tests.redaction")
    try:
        int(SECRET)
    except ValueError:
        logger.exception("saving the contact failed")
    [record] = caplog.records
    assert record.exc_info is None  # no handler can format the original again
    text = _formatted(caplog)
    assert "saving the contact failed" in text
    assert "Traceback (most recent call last):" in text
    assert "test_log_redaction.py" in text and "int(SECRET)" in text  # the frame and its code
    assert f"ValueError: {WITHHELD}" in text
    assert "Quorvane" not in text and "Quorvane" not in (record.exc_text or "")


def test_a_chain_of_exceptions_is_withheld_link_by_link():
    try:
        try:
            {}[SECRET]
        except KeyError as missing:
            raise RuntimeError(f"lookup of {SECRET} failed") from missing
    except RuntimeError as error:
        text = exception_text(error)
    assert "Quorvane" not in text
    assert text.index(f"KeyError: {WITHHELD}") < text.index(f"RuntimeError: {WITHHELD}")
    assert "direct cause of the following exception" in text


def test_an_exception_given_as_a_message_argument_is_logged_by_its_type(caplog):
    logging.getLogger("tests.redaction").warning("delivery failed (%s)", ValueError(SECRET))
    assert caplog.records[0].getMessage() == "delivery failed (ValueError)"


@pytest.mark.django_db
def test_an_unexpected_error_of_a_request_is_logged_without_its_message(monkeypatch, caplog):
    """Django logs it (`django.request`, with the traceback); the client gets a bare 500."""

    def explode(**kwargs):
        raise ValueError(f"cannot list {SECRET}")

    monkeypatch.setattr("screening.api.views.contact_list", explode)
    api = client_for(UserFactory(agency=AgencyFactory(), role=Role.HOTLINE_STAFF))
    api.raise_request_exception = False
    assert api.get("/api/v1/contacts/").status_code == 500
    logged = [record for record in caplog.records if record.name == "django.request"]
    assert logged, "Django logs the error"
    assert "Quorvane" not in _formatted(caplog)
    assert f"ValueError: {WITHHELD}" in _formatted(caplog)
