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
