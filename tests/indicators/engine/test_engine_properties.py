"""Properties every scoring must have, whatever the answers."""

from typing import Any

from engine_instruments import build, gated_data, ilo_adult_data, mixed_data, short_screen_data
from hypothesis import given, settings
from hypothesis import strategies as st

from indicators.engine import INDETERMINATE, AnswerError, InstrumentDefinition, score

INSTRUMENTS = {
    "ilo": build(ilo_adult_data()),
    "screen": build(short_screen_data()),
    "mixed": build(mixed_data()),
    "gated": build(gated_data()),
}
# Up to this many items, a property is checked for every item it could be about.
EXHAUSTIVE = 20
OPEN = ["unknown", "declined", None]  # None: leave the item out


def answer_strategy(definition: InstrumentDefinition, key: str) -> st.SearchStrategy[Any]:
    item = definition.item(key)
    options = [option.key for option in item.options or ()]
    given_values: st.SearchStrategy[Any] = {
        "yes_no": st.sampled_from(["yes", "no"]),
        "single_choice": st.sampled_from(options or ["-"]),
        "multiple_choice": st.lists(st.sampled_from(options or ["-"]), unique=True),
        "number": st.integers(0, 24),
        "date": st.dates().map(lambda day: day.isoformat()),
    }[item.response_type]
    return st.one_of(given_values, st.sampled_from(OPEN))


@st.composite
def scenario(draw):
    name = draw(st.sampled_from(sorted(INSTRUMENTS)))
    definition = INSTRUMENTS[name]
    answers = {}
    for item in definition.items:
        value = draw(answer_strategy(definition, item.key))
        if value is not None:
            answers[item.key] = value
    context = {
        "age": draw(st.one_of(st.none(), st.integers(0, 120))),
        "exploitation_type": draw(
            st.sampled_from([None, "labour", "sexual", "both", "criminality", "unknown"])
        ),
    }
    return definition, answers, context


def ranks(definition: InstrumentDefinition, result: dict[str, Any]) -> tuple[int, int]:
    return (
        definition.outcome_rank(result["best_case"]),
        definition.outcome_rank(result["worst_case"]),
    )


def candidates(definition: InstrumentDefinition, keys: list[str], data) -> list[str]:
    if not keys or len(definition.items) <= EXHAUSTIVE:
        return keys
    return [data.draw(st.sampled_from(keys))]


@settings(max_examples=150, deadline=None)
@given(scenario(), st.data())
def test_turning_a_no_into_yes_never_lowers_the_outcome(case, data):
    definition, answers, context = case
    noes = sorted(key for key, value in answers.items() if value == "no")
    before = score(definition, answers, context).to_dict()
    best_before, worst_before = ranks(definition, before)

    for key in candidates(definition, noes, data):
        after = score(definition, {**answers, key: "yes"}, context).to_dict()

        best_after, worst_after = ranks(definition, after)
        assert best_after >= best_before, key
        assert worst_after >= worst_before, key


@settings(max_examples=150, deadline=None)
@given(scenario(), st.data())
def test_answering_an_open_item_stays_within_best_and_worst_case(case, data):
    definition, answers, context = case
    yes_no_keys = [item.key for item in definition.items if item.response_type == "yes_no"]
    open_keys = [key for key in yes_no_keys if answers.get(key, "unknown") in OPEN]
    before = score(definition, answers, context).to_dict()
    best_before, worst_before = ranks(definition, before)

    for key in candidates(definition, open_keys, data):
        for new_answer in ("yes", "no"):
            after = score(definition, {**answers, key: new_answer}, context).to_dict()

            best_after, worst_after = ranks(definition, after)
            assert best_before <= best_after <= worst_after <= worst_before, (key, new_answer)


@settings(max_examples=100, deadline=None)
@given(scenario())
def test_a_decided_outcome_is_its_best_and_worst_case(case):
    definition, answers, context = case

    result = score(definition, answers, context).to_dict()

    if result["outcome"] == INDETERMINATE:
        assert result["best_case"] != result["worst_case"]
    else:
        assert result["best_case"] == result["worst_case"] == result["outcome"]


@settings(max_examples=100, deadline=None)
@given(scenario())
def test_same_input_gives_the_same_result(case):
    definition, answers, context = case

    first = score(definition, answers, context).to_dict()
    second = score(definition, dict(reversed(list(answers.items()))), context).to_dict()

    assert first == second


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    st.sampled_from(["yes", "no", "unknown", "declined", "agency", "phone", "2024-02-30"]),
)
JUNK = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=5,
)
ITEM_KEYS = sorted({item.key for definition in INSTRUMENTS.values() for item in definition.items})


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(INSTRUMENTS)),
    st.dictionaries(st.one_of(st.sampled_from(ITEM_KEYS), st.text(max_size=8)), JUNK, max_size=8),
    st.one_of(st.none(), st.dictionaries(st.sampled_from(["age", "exploitation_type", "x"]), JUNK)),
)
def test_random_answers_are_scored_or_refused_never_crash(name, answers, context):
    definition = INSTRUMENTS[name]
    try:
        result = score(definition, answers, context)
    except AnswerError as error:
        named = {str(key) for key in answers} | {str(key) for key in context or {}}
        assert error.problems
        assert {problem.key for problem in error.problems} <= named
    else:
        assert result.to_dict()["outcome"]
