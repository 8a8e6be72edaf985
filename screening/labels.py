"""What screening's stored codes mean, in words (registered with config/labels.py)."""

from config.labels import labels_register
from screening.models import (
    Agency,
    Case,
    CaseCloseReason,
    Consent,
    Screening,
    ScreeningOverride,
    YesNoUnknown,
)
from screening.roles import Role

# Languages as people name them; stored as ISO 639-1 codes ("es"). An unknown code is shown
# in capitals ("XX"), never turned into a word that looks like a name.
LANGUAGE_NAMES = {
    "am": "Amharic",
    "ar": "Arabic",
    "bg": "Bulgarian",
    "bn": "Bengali",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fr": "French",
    "hi": "Hindi",
    "it": "Italian",
    "ne": "Nepali",
    "pl": "Polish",
    "ps": "Pashto",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "so": "Somali",
    "sq": "Albanian",
    "sw": "Swahili",
    "ta": "Tamil",
    "th": "Thai",
    "ti": "Tigrinya",
    "tl": "Tagalog",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "zh": "Chinese",
}


def language_label(code: str) -> str:
    return LANGUAGE_NAMES.get(str(code).strip().lower(), str(code).upper())


labels_register("age_band", Case.AgeBand)
labels_register("gender", Case.Gender)
labels_register("exploitation_type", Case.ExploitationType)
labels_register("case_status", Case.Status)
labels_register("yes_no_unknown", YesNoUnknown)
labels_register("consent_scope", Consent.Scope)
labels_register("consent_method", Consent.Method)
labels_register("screening_setting", Screening.Setting)
labels_register("screening_status", Screening.Status)
labels_register("override_reason", ScreeningOverride.ReasonCode)
labels_register("agency_kind", Agency.Kind)
labels_register("role", Role)
labels_register("language", language_label)
labels_register("close_reason", CaseCloseReason)
