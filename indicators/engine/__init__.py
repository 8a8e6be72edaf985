"""The instrument engine: file format, validation and scoring. Pure Python, no Django.

definition = load_instrument_file("seeds/instruments/ilo-ec-adult-labour.v1.yaml")
result = score(definition, {"deceived_about_job": "yes"}, {"age": 34})
result.to_dict()["outcome"]
"""

from .diff import diff_definitions, format_diff
from .expressions import TV, evaluate
from .models import InstrumentDefinition, Item, Outcome, Rule, Section
from .results import ScoreResult
from .schema import InstrumentFileError, InstrumentProblem, load_instrument_file, parse_instrument
from .scoring import ENGINE_VERSION, AnswerError, AnswerProblem, score, validate_answers
from .vocabulary import INDETERMINATE

__all__ = [
    "ENGINE_VERSION",
    "INDETERMINATE",
    "TV",
    "AnswerError",
    "AnswerProblem",
    "InstrumentDefinition",
    "InstrumentFileError",
    "InstrumentProblem",
    "Item",
    "Outcome",
    "Rule",
    "ScoreResult",
    "Section",
    "diff_definitions",
    "evaluate",
    "format_diff",
    "load_instrument_file",
    "parse_instrument",
    "score",
    "validate_answers",
]
