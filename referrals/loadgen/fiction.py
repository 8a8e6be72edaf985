"""Fictional words for generated data: names made of invented syllables (so no generated
person is a real one by design), invented places, and telephone numbers only from the
ranges Ofcom reserves for drama, which are never given to anyone."""

from __future__ import annotations

import random

_NAME_START = ("Ad", "Bre", "Cal", "Dor", "El", "Fen", "Gar", "Hal", "Ist", "Jor", "Kel")
_NAME_START += ("Lir", "Mav", "Nor", "Oth", "Pell", "Quen", "Ros", "Sel", "Tam", "Ul", "Vor")
_NAME_END = ("a", "ain", "ar", "en", "ett", "ia", "in", "is", "o", "om", "ra", "wyn", "ys")
_FAMILY_START = ("Ash", "Brack", "Corr", "Dun", "Elm", "Farr", "Gorm", "Holl", "Ivers", "Kest")
_FAMILY_START += ("Lund", "Marr", "Nesh", "Orrin", "Penn", "Quill", "Rook", "Sarn", "Tarr", "Vell")
_FAMILY_END = ("by", "croft", "dale", "er", "field", "ham", "ley", "mere", "ock", "ton", "wick")

_PLACE_START = ("North", "South", "East", "West", "High", "Low", "Far", "Mid", "Old", "New")
_PLACE_MID = ("brook", "fen", "ford", "gate", "holm", "mere", "moor", "stead", "wold", "wick")
# The regions the seed provider directory serves (seeds/providers), then invented ones.
DIRECTORY_REGIONS = ("Harbour City", "Lakeshore", "Riverside")

# Ofcom's numbers reserved for TV, radio and film (1,000 numbers each): area code and the
# first digits of the local part.
_DRAMA_RANGES = (
    "0113 496 0",
    "0114 496 0",
    "0115 496 0",
    "0116 496 0",
    "0117 496 0",
    "0118 496 0",
    "0121 496 0",
    "0131 496 0",
    "0141 496 0",
    "0151 496 0",
    "0161 496 0",
    "0191 498 0",
    "020 7946 0",
    "028 9649 6",
    "029 2018 0",
    "01632 960 ",
    "07700 900 ",
)

NATIONALITIES = ("not recorded", "Aldovian", "Brelish", "Corvanese", "Dunmarran", "Estovan")
NATIONALITIES += ("Fellish", "Gorvic", "Halmese", "Istrian", "Korvenian", "Lusk")

NARRATIVES = (
    "Met during an outreach visit; says wages were kept back by the person who arranged work.",
    "Called after a friend was told to repay a travel debt that keeps growing.",
    "Found during a premises inspection; lives on site and works most days without a break.",
    "Referred by a clinic; unsure where documents are, says an employer holds them.",
    "Says a recruiter promised different work and pay; now afraid to leave the house.",
    "Brought in by police after a raid; does not want to talk about the employer yet.",
)
CLOSE_REASONS = ("Services in place.", "Person moved away.", "No further contact.")
SHARE_REASONS = ("Joint case work agreed with the person.", "Needs the other agency's services.")
WITHDRAWAL_NOTES = ("The person withdrew consent by phone.", "Withdrawn at a follow-up visit.")
OVERRIDE_NOTES = ("The interview left out what the person told the nurse.", "Second interview.")
REVIEW_NOTES = ("Checked with the screener.", "", "Answers read back to the person.")
CONTACT_LOCATIONS = ("A fictional car wash on a ring road", "A fictional farm near a village")
CONTACT_LOCATIONS += ("Rooms above a fictional nail bar", "A fictional building site")
CONTACT_SUMMARIES = (
    "Caller worried about workers who never leave the site (fictional).",
    "Person says their passport is held by the employer (fictional).",
    "Neighbour reports people driven to work at night (fictional).",
    "Caller asks what help exists for someone owing a travel debt (fictional).",
)


def person_name(rng: random.Random) -> tuple[str, str]:
    given = rng.choice(_NAME_START) + rng.choice(_NAME_END)
    family = rng.choice(_FAMILY_START) + rng.choice(_FAMILY_END)
    return given, family


def place_name(rng: random.Random) -> str:
    return rng.choice(_PLACE_START) + rng.choice(_PLACE_MID)


def phone_pool(size: int, rng: random.Random) -> list[str]:
    """Up to `size` distinct fictional numbers (at most 17,000 exist): callers repeat."""
    numbers = [f"{prefix}{line:03d}" for prefix in _DRAMA_RANGES for line in range(1000)]
    rng.shuffle(numbers)
    return numbers[: max(1, min(size, len(numbers)))]


def document_text(rng: random.Random) -> str:
    letter = rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ")
    return f"Passport {letter}{rng.randrange(10**6, 10**7)}"
