"""Normalising identifiers for duplicate detection, and their keyed digests.

Pure functions (no database, no settings): the same person's phone number, document number or
name written two ways should give the same text, and then the same keyed digest
(`config.crypto.blind_index`). docs/duplicates.md gives the choices and what they miss or
match wrongly. Anything that does not normalise cleanly gives no digest, never a guessed one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import phonenumbers

from config.crypto import blind_index

PHONE = "phone"
DOCUMENT = "document"
NAME = "name"

# A document number has at least this many digits: fewer would make years ("2019") and
# house numbers look like documents. Longer than MAX_DOCUMENT_LENGTH is not a document.
MIN_DOCUMENT_DIGITS = 5
MAX_DOCUMENT_LENGTH = 32
# A name of one word ("Maria") would match half the city: only two words or more count.
MIN_NAME_WORDS = 2

# Runs of letters and digits, joined inside by one - . or / (X-123/45, 99.887).
_DOCUMENT_RUN = re.compile(r"[^\W_]+(?:[-./][^\W_]+)*")
_DATE_SHAPED = re.compile(r"\d{1,4}([-./])\d{1,2}\1\d{1,4}")
_SEPARATORS = re.compile(r"[-./]")


@dataclass(frozen=True)
class Identifier:
    """One normalised identifier, ready to digest. Never logged or shown."""

    kind: str
    normalised: str

    def digest(self) -> str:
        return blind_index(self.kind, self.normalised)


def _fold(text: str) -> str:
    """Compatibility forms unified (NFKC), case folded, accents dropped (NFKD without the
    combining marks), digits of any script as ASCII digits. The dotless ı is an i: its
    upper case is I, which folds to i ("KIRIŞ" is "Kırış")."""
    casefolded = unicodedata.normalize("NFKC", text).casefold().replace("ı", "i")
    folded = unicodedata.normalize("NFKD", casefolded)
    return "".join(
        str(unicodedata.decimal(char)) if char.isdecimal() else char
        for char in folded
        if not unicodedata.combining(char)
    )


def normalise_phones(text: str, *, region: str) -> list[str]:
    """Every phone number in `text` in E.164 (`+447700900123`), in order, without repeats.

    National numbers are read as numbers of `region` (an ISO 3166 code, e.g. "GB"); "00" and
    "+" prefixes name the country. A number counts when its length is possible for its
    country (libphonenumber); whether the range is assigned is not asked, so new ranges and the
    fictional ones used in tests count too. Text with no such number gives none."""
    found: list[str] = []
    for match in phonenumbers.PhoneNumberMatcher(
        text or "", region, leniency=phonenumbers.Leniency.POSSIBLE
    ):
        number = match.number
        if (
            phonenumbers.is_possible_number_with_reason(number)
            != phonenumbers.ValidationResult.IS_POSSIBLE
        ):
            continue
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if e164 not in found:
            found.append(e164)
    return found


def _document_runs(text: str) -> Iterable[str]:
    """Runs of letters/digits; runs of digits only separated by one space are one run
    ("12 34 56 789" is how some documents print their number)."""
    pending: str | None = None
    end = -1
    for match in _DOCUMENT_RUN.finditer(text):
        run = match.group()
        joinable = run.isdigit() and pending is not None and pending.isdigit()
        if joinable and text[end : match.start()] == " ":
            pending += run
        else:
            if pending is not None:
                yield pending
            pending = run
        end = match.end()
    if pending is not None:
        yield pending


def normalise_documents(text: str) -> list[str]:
    """Tokens of `text` that look like document numbers ("Passport X1234567; ID card 99-887"
    → ["X1234567", "99887"]): letters and digits with at least MIN_DOCUMENT_DIGITS digits,
    separators (- . / and spaces between digit groups) removed, upper-cased. Dates
    ("12/03/1990", "2027-05-01") are not document numbers."""
    found: list[str] = []
    for run in _document_runs(_fold(text or "")):
        if _DATE_SHAPED.fullmatch(run):
            continue
        token = _SEPARATORS.sub("", run).upper()
        if len(token) > MAX_DOCUMENT_LENGTH:
            continue
        if sum(char.isdigit() for char in token) < MIN_DOCUMENT_DIGITS:
            continue
        if token not in found:
            found.append(token)
    return found


def normalise_name(text: str) -> str | None:
    """The name's words folded (case, accents, compatibility forms), punctuation dropped, in
    sorted order: "María José GARCÍA" and "garcia, maria-jose" both give "garcia jose maria".
    None for fewer than MIN_NAME_WORDS words."""
    folded = _fold(text or "")
    words = "".join(
        char if unicodedata.category(char)[0] in "LN" else " " for char in folded
    ).split()
    if len(words) < MIN_NAME_WORDS:
        return None
    return " ".join(sorted(words))


def identifiers_of(
    *, phone: str = "", name: str = "", documents: str = "", region: str
) -> list[Identifier]:
    """Every identifier in a record's phone, name and documents text, without repeats."""
    identifiers = [Identifier(PHONE, number) for number in normalise_phones(phone, region=region)]
    if (normalised_name := normalise_name(name)) is not None:
        identifiers.append(Identifier(NAME, normalised_name))
    identifiers.extend(Identifier(DOCUMENT, token) for token in normalise_documents(documents))
    return identifiers
