"""Normalising phone numbers, document numbers and names for duplicate detection
(screening/identifiers.py): the same identifier written differently gives one value; what
does not normalise cleanly gives none."""

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from screening.identifiers import (
    DOCUMENT,
    NAME,
    PHONE,
    Identifier,
    identifiers_of,
    normalise_documents,
    normalise_name,
    normalise_phones,
)

# Ofcom's numbers reserved for drama: fictional, never assigned.
FICTIONAL_MOBILE = "+447700900123"


@pytest.mark.parametrize(
    "written",
    [
        "+44 7700 900123",
        "07700 900123",
        "0044 7700 900 123",
        "07700-900-123",
        "(07700) 900123",
        "+44 (0)7700 900123",
        "mobile: 07700 900123",
        "07700 900123 (mum)",
        "07700 900 123 ext. 4",
    ],
)
def test_one_mobile_written_many_ways_is_one_e164_number(written):
    assert normalise_phones(written, region="GB") == [FICTIONAL_MOBILE]


def test_national_numbers_are_read_in_the_default_region():
    assert normalise_phones("(202) 555-0143", region="US") == ["+12025550143"]
    assert normalise_phones("(202) 555-0143", region="GB") != ["+12025550143"]


def test_several_numbers_in_one_field_are_each_found_once():
    text = "07700 900123 / +1 202 555 0143, or 0044 7700 900123"
    assert normalise_phones(text, region="GB") == [FICTIONAL_MOBILE, "+12025550143"]


@pytest.mark.parametrize(
    "not_a_number", ["", "unknown", "none given", "12345", "911", "0800 CALL NOW", "+999 123"]
)
def test_text_that_is_no_possible_number_gives_no_number(not_a_number):
    assert normalise_phones(not_a_number, region="GB") == []


@given(st.text(max_size=100))
def test_any_text_gives_only_e164_numbers_and_never_fails(text):
    for number in normalise_phones(text, region="GB"):
        assert number.startswith("+") and number[1:].isdigit() and 8 <= len(number) <= 16


@given(st.from_regex(r"7[0-9]{9}", fullmatch=True))
def test_uk_mobile_formats_agree(national):
    spaced = f"0{national[:4]} {national[4:]}"
    expected = normalise_phones(f"+44{national}", region="GB")
    assert normalise_phones(spaced, region="GB") == expected
    assert normalise_phones(f"0044 {national}", region="GB") == expected


def test_documents_listed_in_free_text_are_each_a_token():
    assert normalise_documents("Passport X1234567; ID card 99-887") == ["X1234567", "99887"]


@pytest.mark.parametrize(
    "written", ["X1234567", "x1234567", "X-123-4567", "X.1234567", "passport no. x-1234567"]
)
def test_a_document_number_written_differently_is_one_token(written):
    assert normalise_documents(written) == ["X1234567"]


def test_a_letter_written_apart_from_the_digits_is_lost():
    # The documented limit: letters and digits are not joined across a space.
    assert normalise_documents("X 1234567") == ["1234567"]


def test_digit_groups_separated_by_single_spaces_are_one_number():
    assert normalise_documents("ID 12 34 56 789") == ["123456789"]


@pytest.mark.parametrize(
    "not_a_document",
    ["", "passport seen", "issued 2019", "born 12/03/1990", "expires 2027-05-01", "flat 12a"],
)
def test_years_dates_and_short_numbers_are_not_documents(not_a_document):
    assert normalise_documents(not_a_document) == []


def test_digits_of_other_scripts_count_as_digits():
    assert normalise_documents("\u0669\u0669\u0668\u0668\u0667") == ["99887"]  # Arabic-Indic
    assert normalise_documents("Ｘ１２３４５６７") == ["X1234567"]  # full width


@given(st.text(max_size=200))
def test_document_tokens_are_upper_case_letters_and_digits_only(text):
    for token in normalise_documents(text):
        assert token == token.upper()
        assert all(char.isalnum() for char in token)
        assert sum(char.isdigit() for char in token) >= 5


@pytest.mark.parametrize(
    "written",
    [
        "María José GARCÍA",
        "garcia maria jose",
        "García, María-José",
        "  GARCIA   Maria  Jose ",
        "Maria Jose Garci\u0301a",  # combining acute accent instead of the precomposed letter
    ],
)
def test_a_name_written_differently_normalises_the_same(written):
    assert normalise_name(written) == "garcia jose maria"


def test_case_folding_goes_beyond_lower_case():
    assert normalise_name("Anna STRASSE") == normalise_name("anna straße")


def test_a_single_word_is_no_name_to_match():
    assert normalise_name("Maria") is None
    assert normalise_name("  ,  ") is None


def test_different_names_stay_different():
    assert normalise_name("Maria Garcia") != normalise_name("Mario Garcia")


name_words = st.lists(
    st.text(alphabet=st.characters(categories=("Lu", "Ll")), min_size=1, max_size=12),
    min_size=2,
    max_size=5,
)


@given(name_words, st.randoms())
def test_word_order_and_case_never_matter(words, random):
    shuffled = list(words)
    random.shuffle(shuffled)
    assert normalise_name(" ".join(words)) == normalise_name(" ".join(shuffled).upper())


@given(st.text(max_size=100))
def test_a_normalised_name_is_folded_and_sorted(text):
    normalised = normalise_name(text)
    if normalised is not None:
        words = normalised.split(" ")
        assert words == sorted(words) and len(words) >= 2
        assert not any(unicodedata.combining(char) for char in normalised)
        assert normalise_name(normalised) == normalised  # idempotent


def test_identifiers_of_a_record_have_their_kinds_and_no_repeats():
    identifiers = identifiers_of(
        phone="07700 900123; +44 7700 900123",
        name="María García",
        documents="Passport X1234567, copy: X-1234567",
        region="GB",
    )
    assert identifiers == [
        Identifier(PHONE, FICTIONAL_MOBILE),
        Identifier(NAME, "garcia maria"),
        Identifier(DOCUMENT, "X1234567"),
    ]


def test_the_kind_is_part_of_the_digest(settings):
    assert Identifier(PHONE, "12345678").digest() != Identifier(DOCUMENT, "12345678").digest()
