"""What the engine's flags mean, in words (registered with config/labels.py)."""

from config.labels import labels_register

FLAG_LABELS = {
    "minor": "Under 18",
    "mandatory_report": "Mandatory report",
    "child_welfare_referral": "Child welfare must be told",
    "immediate_danger": "Immediate danger",
    "urgent": "Urgent",
    "youth_path": "Youth pathway",
    "crisis": "Crisis",
    "further_assessment": "Needs a fuller assessment",
    "law_enforcement_notice": "Law enforcement to be told",
}

labels_register("flag", FLAG_LABELS)
# An outcome's own label is its instrument's (the result page reads it there); where only the
# key travels (a disclosure packet), its words: "not_indicated" → "Not indicated".
labels_register("outcome", lambda key: None)

# The six ILO/EC dimensions, named as the instruments' own rule texts name them.
DIMENSION_LABELS = {
    "deceptive_recruitment": "Deceptive recruitment",
    "coercive_recruitment": "Coercive recruitment",
    "recruitment_abuse_of_vulnerability": "Recruitment by abuse of vulnerability",
    "exploitation": "Exploitation",
    "coercion_at_destination": "Coercion at destination",
    "abuse_of_vulnerability_at_destination": "Abuse of vulnerability at destination",
}
labels_register("ilo_dimension", DIMENSION_LABELS)
labels_register("indicator_strength", {"strong": "Strong", "medium": "Medium", "weak": "Weak"})
# What the engine's dimension status means for the person reading the result.
labels_register(
    "dimension_status",
    {"positive": "Met", "negative": "Not met", "indeterminate": "Could be met"},
)
# A scoring rule's bands ("low", "medium", "high") are the instrument's own keys: their words.
labels_register("score_band", lambda key: None)
# An ILO/EC indicator by its short name, the item key in words ("documents_kept_at_destination"
# → "Documents kept at destination"), as the publication lists indicators; the question asked
# is the item's prompt, shown with the answers.
labels_register("indicator", lambda key: None)
