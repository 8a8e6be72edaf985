"""Three-valued (Kleene) evaluation of the expression language of instrument files.

An unanswered, `unknown` or `declined` answer makes an atom UNKNOWN, never FALSE ("unknown is
not no"); `all`/`any`/`not` then follow Kleene's strong logic, so an expression is TRUE or
FALSE only when every way of answering the open items would give that same value. Counting
conditions use an interval: the lower bound counts "yes" answers only, the upper bound also
counts every open item as a possible "yes".
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from enum import IntEnum
from typing import Any, Protocol

from .models import (
    AllExpr,
    AnyExpr,
    ContextExpr,
    DimensionExpr,
    DomainExpr,
    Expression,
    Item,
    ItemExpr,
    NotExpr,
    RuleExpr,
)
from .vocabulary import NON_ANSWERS, UNKNOWN


class TV(IntEnum):
    """A truth value ordered FALSE < UNKNOWN < TRUE: `and` is min, `or` is max."""

    FALSE = 0
    UNKNOWN = 1
    TRUE = 2

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def of(cls, value: bool) -> TV:
        return cls.TRUE if value else cls.FALSE


def all_of(values: Iterable[TV]) -> TV:
    return min(values, default=TV.TRUE)


def any_of(values: Iterable[TV]) -> TV:
    return max(values, default=TV.FALSE)


def negate(value: TV) -> TV:
    return TV(2 - value)


def at_least(lower: float, upper: float, threshold: float) -> TV:
    """Whether a quantity known to lie in [lower, upper] reaches `threshold`."""
    if lower >= threshold:
        return TV.TRUE
    if upper < threshold:
        return TV.FALSE
    return TV.UNKNOWN


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
    "eq": operator.eq,
    "ne": operator.ne,
}


def compare(op: str, left: Any, right: Any) -> bool:
    return bool(_OPERATORS[op](left, right))


class _Missing:
    """The answer of an item that is not in the answers at all."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


def is_open(answer: Any) -> bool:
    """True for an answer that gives no information: missing, `unknown` or `declined`."""
    return answer is MISSING or (isinstance(answer, str) and answer in NON_ANSWERS)


def answer_truth(item: Item, answer: Any, expr: ItemExpr) -> TV:
    """The truth of an item atom from the answer alone (show_if is applied by the caller)."""
    if is_open(answer):
        return TV.UNKNOWN
    kind = item.response_type
    if kind == "yes_no":
        return TV.of(answer == "yes")
    if kind == "single_choice":
        return TV.of(answer == expr.equals)
    if kind == "multiple_choice":
        return TV.of(expr.equals in answer)
    if kind == "number" and expr.op is not None:
        return TV.of(compare(expr.op, answer, expr.value))
    return TV.UNKNOWN  # not reachable for a validated instrument


def context_truth(expr: ContextExpr, context: Mapping[str, Any]) -> TV:
    value = context.get(expr.context)
    if value is None or value == UNKNOWN:
        return TV.UNKNOWN
    return TV.of(compare(expr.op, value, expr.value))


class Environment(Protocol):
    """What an expression's atoms are evaluated against."""

    def item(self, expr: ItemExpr) -> TV: ...

    def context(self, expr: ContextExpr) -> TV: ...

    def domain(self, expr: DomainExpr) -> TV: ...

    def dimension(self, expr: DimensionExpr) -> TV: ...

    def rule(self, expr: RuleExpr) -> TV: ...


def evaluate(expr: Expression, env: Environment) -> TV:
    if isinstance(expr, AllExpr):
        return all_of(evaluate(child, env) for child in expr.all)
    if isinstance(expr, AnyExpr):
        return any_of(evaluate(child, env) for child in expr.any)
    if isinstance(expr, NotExpr):
        return negate(evaluate(expr.not_, env))
    if isinstance(expr, ItemExpr):
        return env.item(expr)
    if isinstance(expr, ContextExpr):
        return env.context(expr)
    if isinstance(expr, DomainExpr):
        return env.domain(expr)
    if isinstance(expr, DimensionExpr):
        return env.dimension(expr)
    if isinstance(expr, RuleExpr):
        return env.rule(expr)
    raise TypeError(f"not an expression: {expr!r}")
