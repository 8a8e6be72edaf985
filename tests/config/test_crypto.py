"""Sealed fields: AES-256-GCM bound to table, column and row; the keyring; the local key file;
and what the fields refuse so that plaintext never reaches SQL."""

import base64
import json
import stat

import pytest
from django.db import connection, transaction

from config import crypto
from config.crypto import DecryptionError, local_key_file, parse_keyring
from screening.models import Case
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

NAME = "Quillon Varnesse"  # fictional


def _raw(case: Case, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM screening_case WHERE id = %s", [case.pk])  # noqa: S608
        return cursor.fetchone()[0]


def _write_raw(case: Case, column: str, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE screening_case SET {column} = %s WHERE id = %s", [value, case.pk])  # noqa: S608


def test_a_sealed_value_is_ciphertext_with_its_key_id_and_opens_to_the_plain_value():
    case = CaseFactory(identifying_name=NAME)
    stored = _raw(case, "identifying_name")
    assert NAME not in stored and NAME.lower() not in stored.lower()
    assert stored.startswith("$e1$test1$")
    assert Case.objects.get(pk=case.pk).identifying_name == NAME


def test_the_same_value_seals_differently_each_time():
    first, second = CaseFactory(identifying_name=NAME), CaseFactory(identifying_name=NAME)
    assert _raw(first, "identifying_name") != _raw(second, "identifying_name")


def test_a_value_copied_into_another_row_does_not_open():
    victim, other = CaseFactory(identifying_name=NAME), CaseFactory(identifying_name="Other")
    _write_raw(other, "identifying_name", _raw(victim, "identifying_name"))
    with pytest.raises(DecryptionError) as raised:
        Case.objects.get(pk=other.pk).identifying_name  # noqa: B018 - the read decrypts
    message = str(raised.value)
    assert f"screening_case.identifying_name row {other.pk}" in message
    assert NAME not in message


def test_a_value_copied_into_another_column_of_the_same_row_does_not_open():
    case = CaseFactory(identifying_name=NAME, narrative="Fictional narrative")
    _write_raw(case, "narrative", _raw(case, "identifying_name"))
    reloaded = Case.objects.get(pk=case.pk)
    assert reloaded.identifying_name == NAME
    with pytest.raises(DecryptionError, match="screening_case.narrative"):
        reloaded.narrative  # noqa: B018


def test_an_unread_value_is_written_back_unchanged_and_a_changed_one_is_sealed_anew():
    case = CaseFactory(identifying_name=NAME, narrative="Fictional narrative")
    name_before, narrative_before = _raw(case, "identifying_name"), _raw(case, "narrative")
    reloaded = Case.objects.get(pk=case.pk)
    reloaded.narrative = "A new fictional narrative"
    reloaded.save()
    assert _raw(case, "identifying_name") == name_before
    assert _raw(case, "narrative") != narrative_before
    assert Case.objects.get(pk=case.pk).narrative == "A new fictional narrative"


def test_values_under_an_older_key_open_while_new_ones_use_the_active_key(settings):
    case = CaseFactory(identifying_name=NAME)
    settings.FIELD_ENCRYPTION_KEYS = (
        f"test2:{crypto.new_key_text()},{settings.FIELD_ENCRYPTION_KEYS}"
    )
    settings.FIELD_ENCRYPTION_ACTIVE_KEY = "test2"
    assert Case.objects.get(pk=case.pk).identifying_name == NAME
    newer = CaseFactory(identifying_name=NAME)
    assert _raw(newer, "identifying_name").startswith("$e1$test2$")


def test_a_key_no_longer_in_the_keyring_is_named_in_the_error(settings):
    case = CaseFactory(identifying_name=NAME)
    settings.FIELD_ENCRYPTION_KEYS = f"test2:{crypto.new_key_text()}"
    settings.FIELD_ENCRYPTION_ACTIVE_KEY = "test2"
    with pytest.raises(DecryptionError, match="key 'test1' not in the keyring"):
        Case.objects.get(pk=case.pk).identifying_name  # noqa: B018


def test_sql_never_receives_a_plain_value():
    CaseFactory(identifying_name=NAME)
    # update() marks its transaction for rollback when it fails: give it a savepoint.
    with pytest.raises(TypeError, match="write it through save"), transaction.atomic():
        Case.objects.update(identifying_name=NAME)
    with pytest.raises(TypeError, match="blind index"):
        Case.objects.filter(identifying_name=NAME).count()
    with pytest.raises(Exception, match="Unsupported lookup"):
        Case.objects.filter(identifying_name__icontains="quill").count()
    # Emptiness is all SQL may ask about.
    assert Case.objects.exclude(identifying_name="").count() == 1


def test_full_clean_limits_the_plain_length_of_a_sealed_field():
    case = CaseFactory.build(identifying_name="x" * 201)
    with pytest.raises(Exception, match="at most 200 characters"):
        case.full_clean(exclude=["agency", "created_by"])


def test_the_local_key_file_is_made_once_private_to_its_owner_and_then_reused(tmp_path):
    path = tmp_path / "var" / "field-keys.json"
    made = local_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_key_file(path) == made == json.loads(path.read_text())
    ring = parse_keyring(
        keys=made["FIELD_ENCRYPTION_KEYS"],
        active=made["FIELD_ENCRYPTION_ACTIVE_KEY"],
        blind_index_key=made["BLIND_INDEX_KEY"],
    )
    assert len(ring.keys[ring.active_id]) == 32 and len(ring.blind_index_key) == 32
    assert local_key_file(tmp_path / "other.json") != made  # every machine its own keys


def test_a_key_file_missing_a_key_is_refused_by_name(tmp_path):
    path = tmp_path / "keys.json"
    key = base64.urlsafe_b64encode(b"k" * 32).decode()
    path.write_text(json.dumps({"FIELD_ENCRYPTION_KEYS": f"a:{key}"}))
    with pytest.raises(Exception, match="BLIND_INDEX_KEY, FIELD_ENCRYPTION_ACTIVE_KEY"):
        local_key_file(path)
