"""Keyset pagination: one page of an ordered list after (or before) the row a cursor names,
with no COUNT and no OFFSET, for web pages and the API alike.

A list's order is a tuple of fields, each ascending or descending (`("-created_at", "-pk")`),
the last one unique. A cursor is opaque to the reader: the base64 of a JSON list of the key of
the row it starts from. A key holds ids, numbers, booleans and timestamps only, never text: a
list ordered on text (people by name) keys its cursor on the row's id alone, and the query
reads that row's values itself, within the same list (`anchored`). Encrypted fields cannot be
an order at all.

The condition "after the key" is a row-value comparison where every field of the order runs
the same way (`(created_at, id) < (t, i)`, PostgreSQL and SQLite, which has them since 3.15;
Django needs 3.31): one range of an index in that order, so a deep page of the referral queue
starts its index scan at the cursor. An order mixing directions, or another database, gets the
lexicographic OR plus a bound on the leading field
(`created_at <= t AND (created_at < t OR (created_at = t AND id < i))`), where only the bound
narrows the scan. A page before a cursor is read in the reversed order and turned round.

A list whose rows fall into parts, each on an index of its own (the cases a
supervisor may see: the agency's, those shared with it, those granted to them), is filtered
with `parted_filter` and read part by part on PostgreSQL (`_evaluate`).

`keyset_rows` is the only function here that evaluates a list.
"""

from __future__ import annotations

import binascii
import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from django.core.exceptions import EmptyResultSet, FieldDoesNotExist, ImproperlyConfigured
from django.db import connections, models
from django.db.models import BooleanField, Expression, F, Q, Subquery, Value
from django.db.models.sql.where import AND, WhereNode
from django.utils.dateparse import parse_date, parse_datetime

from config.encrypted import EncryptedTextField

# The value types a cursor may carry: none of them can hold a name or a free text.
KEY_KINDS = (datetime, date, int, bool)
_INT_RANGE = 2**31
_BIG_INT_RANGE = 2**63
_BIG_INTEGER_FIELDS = (models.BigIntegerField, models.BigAutoField, models.PositiveBigIntegerField)


class CursorInvalid(ValueError):
    """A cursor this list did not give out (damaged, edited, or from another list)."""


@dataclass(frozen=True)
class KeyField:
    """One field of a list's order. `kind` is the type its cursor value parses to; None for
    a field a cursor may not carry (text), which makes the order anchored on the row's id."""

    name: str
    descending: bool = False
    kind: type | None = int
    big: bool = False

    @property
    def order(self) -> str:
        return f"-{self.name}" if self.descending else self.name

    @property
    def reversed_order(self) -> str:
        return self.name if self.descending else f"-{self.name}"


def keyset_ordering(
    queryset: Any, ordering: Sequence[str | tuple[str, type]] | None = None
) -> tuple[KeyField, ...]:
    """The order of a paged list, checked: each field a column or annotation of the row (no
    `__` paths), none encrypted, the last one unique. `ordering` items are names (`"-at"`),
    their kind read from the model, or `(name, kind)` pairs; without `ordering`, the
    queryset's own `order_by()`."""
    if ordering is None:
        ordering = tuple(queryset.query.order_by) or tuple(queryset.model._meta.ordering)
    if not ordering:
        raise ImproperlyConfigured("A paged list needs an order; its last field unique.")
    fields = []
    for item in ordering:
        text, kind = item if isinstance(item, tuple) else (item, None)
        if not isinstance(text, str):
            raise ImproperlyConfigured(f"Order a paged list by field names, not {text!r}.")
        descending = text.startswith("-")
        name = text.removeprefix("-")
        big = False
        if kind is None:
            kind, big = _kind_of(_field_of(queryset, name), name)
        elif kind not in KEY_KINDS:
            raise ImproperlyConfigured(f"A cursor cannot carry {kind.__name__} ({name}).")
        fields.append(KeyField(name, descending, kind, big))
    last = fields[-1].name
    in_memory = isinstance(queryset, list | tuple)  # its maker vouches for the order
    if not in_memory and last != "pk" and not _is_unique(queryset, last):
        raise ImproperlyConfigured(f"The last field of a paged list's order ({last}) is unique.")
    if anchored(fields) and last != "pk":
        raise ImproperlyConfigured("A list ordered on text ends its order with pk.")
    return tuple(fields)


def anchored(fields: Sequence[KeyField]) -> bool:
    """Whether the cursor is the row's id alone (the order has a field a cursor may not carry)."""
    return any(field.kind is None for field in fields)


def _field_of(queryset: Any, name: str) -> models.Field:
    if "__" in name:
        raise ImproperlyConfigured(f"Order a paged list by the row's own fields, not {name}.")
    annotations = getattr(getattr(queryset, "query", None), "annotations", {})
    if name in annotations:
        return annotations[name].output_field
    opts = queryset.model._meta
    if name == "pk":
        return opts.pk
    try:
        return opts.get_field(name)
    except FieldDoesNotExist:
        raise ImproperlyConfigured(f"{queryset.model.__name__} has no field {name}.") from None


def _kind_of(field: models.Field, name: str) -> tuple[type | None, bool]:
    if isinstance(field, EncryptedTextField):
        raise ImproperlyConfigured(f"{name} is encrypted: it cannot order a paged list.")
    if isinstance(field, models.GeneratedField):
        field = field.output_field
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    if isinstance(field, models.DateTimeField):
        return datetime, False
    if isinstance(field, models.DateField):
        return date, False
    if isinstance(field, models.BooleanField):
        return bool, False
    if isinstance(field, models.IntegerField):  # auto fields included
        return int, isinstance(field, _BIG_INTEGER_FIELDS)
    return None, False


def _is_unique(queryset: Any, name: str) -> bool:
    try:
        field = queryset.model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return bool(field.primary_key or field.unique)


# --- cursors -----------------------------------------------------------------------------


def row_key(row: Any, fields: Sequence[KeyField]) -> list[Any]:
    """The key a cursor carries for `row`: its values in the order, or its id if anchored."""
    if anchored(fields):
        return [row.pk]
    key = []
    for field in fields:
        value = row.pk if field.name == "pk" else getattr(row, field.name)
        if value is None:
            raise ValueError(f"A paged list's order needs values: {field.name} is null.")
        key.append(value)
    return key


def cursor_encode(key: Sequence[Any]) -> str:
    values = [value.isoformat() if isinstance(value, date) else value for value in key]
    return urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode()


def cursor_decode(token: str, fields: Sequence[KeyField]) -> list[Any]:
    """The key a cursor of this list carries, or `CursorInvalid`."""
    try:
        values = json.loads(urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        raise CursorInvalid("not a cursor") from None
    kinds = [(int, True)] if anchored(fields) else [(f.kind, f.big) for f in fields]
    if not isinstance(values, list) or len(values) != len(kinds):
        raise CursorInvalid("not a key of this list")
    return [_parse(value, kind, big) for value, (kind, big) in zip(values, kinds, strict=True)]


def _parse(value: Any, kind: type | None, big: bool) -> Any:
    if kind is datetime:
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None or parsed.tzinfo is None:
            raise CursorInvalid("not a date-time with an offset")
        return parsed
    if kind is date:
        try:
            parsed = parse_date(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise CursorInvalid("not a date")
        return parsed
    if kind is bool:
        if not isinstance(value, bool):
            raise CursorInvalid("not a boolean")
        return value
    limit = _BIG_INT_RANGE if big else _INT_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not -limit < value < limit:
        raise CursorInvalid("not an integer in range")
    return value


# --- the page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class KeysetRows:
    """What one read of a list gives: the rows in the list's order, whether more rows lie
    beyond them in the direction read, and the list's size counted up to a bound if asked."""

    rows: list[Any]
    more: bool
    count: int | None = None


def keyset_rows(
    queryset: Any,
    ordering: Sequence[KeyField],
    *,
    after: Sequence[Any] | None = None,
    before: Sequence[Any] | None = None,
    limit: int,
    count_up_to: int | None = None,
) -> KeysetRows:
    """Up to `limit` rows of `queryset` in `ordering` strictly after the key `after` or, read
    backwards, strictly before `before` (both None: from the start). One query (two with
    `count_up_to`: the size of the whole list up to that bound, `count_up_to + 1` meaning
    "more"); never a COUNT of the whole list, never an OFFSET.

    The only place a paged list is evaluated. `queryset` needs only `.order_by`, `.filter`
    and slicing (and `.model` for an anchored order); a plain list (a page built in memory,
    already bounded) is paged the same way in Python.
    """
    if after is not None and before is not None:
        raise ValueError("A page starts after a row or ends before one, not both.")
    backwards = before is not None
    key = before if backwards else after
    if isinstance(queryset, list | tuple):
        return _rows_in_memory(queryset, ordering, key, backwards, limit, count_up_to)
    order = [field.reversed_order if backwards else field.order for field in ordering]
    ordered = queryset.order_by(*order)
    values: Sequence[Any] | None = key
    rows_compare = _row_values_supported(queryset.db)
    if key is not None:
        if anchored(ordering):
            anchor = queryset.filter(pk=key[0]).order_by()
            values = [
                key[0] if field.name == "pk" else Subquery(anchor.values(field.name)[:1])
                for field in ordering
            ]
        ordered = ordered.filter(_beyond(ordering, values, backwards, rows=rows_compare))
    rows = _evaluate(
        ordered, ordering, limit + 1, key=values, backwards=backwards, rows=rows_compare
    )
    more = len(rows) > limit
    rows = rows[:limit]
    if backwards:
        rows.reverse()
    count = None
    if count_up_to is not None:
        count = queryset.order_by()[: count_up_to + 1].count()
    return KeysetRows(rows, more, count)


@dataclass(frozen=True)
class ListPart:
    """One of the parts a list's rows fall into (see `parted_filter`; parts may overlap):
    `condition` selects the part's rows. `walk` names, for a part driven by another table's
    index, the columns (through a join `condition` makes) that hold the same values as the
    list's order fields, as pairs (`("created_at", "shares__case_created_at")`): when every
    order field has one, the part is cut after the key and ordered on those columns, so the
    database walks that index from the cursor and stops after a page. A part with a join
    yields each row once (the join is unique for the part)."""

    condition: Q
    walk: tuple[tuple[str, str], ...] = ()


class PartedCondition(WhereNode):
    """The condition `parted_filter` added, marked so that `_evaluate` can find it again and
    read each of its parts in its place. Renders as the condition itself; Django's clones of
    a where tree keep the node's class."""


class _ConditionAtCompile:
    """A where-tree leaf holding a condition that is built only when its query is compiled:
    `compiler.query.build_where(build())`, on the query being compiled, so the columns carry
    that query's aliases however the tree was relabeled or moved into a subquery since. A
    paged list on PostgreSQL reads its parts instead and never compiles it, so it never
    pays for building it (`_evaluate`). The condition may not join (`build_where`) and
    references no outer query, so nothing here needs relabeling; it aggregates nothing.
    Renders exactly as `filter(build())` would: tested against it."""

    contains_aggregate = False
    contains_over_clause = False
    is_summary = False

    def __init__(self, build: Any) -> None:
        self.build = build

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return compiler.compile(compiler.query.build_where(self.build()))

    def get_group_by_cols(self) -> list[Any]:
        return []

    def get_refs(self) -> set[Any]:
        return set()

    def replace_expressions(self, replacements: Any) -> _ConditionAtCompile:
        return self


def parted_filter(queryset: Any, condition: Q | Any) -> Any:
    """`queryset.filter(condition)`, with the condition marked as the one a list's parts
    (`ListPart`, on the queryset's `visibility_parts`) split: together the parts must select
    exactly the rows `condition` does (a row may be in more than one). `condition` may not
    join (it is built with `build_where`), so that reading a part in its place leaves every
    join as it was. `condition` may be a function returning the `Q`, called only if the
    query is compiled with it (not when a page reads the parts in its place)."""
    clone = queryset.all()
    query = clone.query
    if isinstance(condition, Q):
        marked = PartedCondition(children=[query.build_where(condition)])
    else:
        marked = PartedCondition(children=[_ConditionAtCompile(condition)])
    if query.where.connector == AND and not query.where.negated:
        query.where.children.append(marked)
    else:
        query.where = WhereNode([query.where, marked], AND)
    return clone


def _without_parted_condition(queryset: Any) -> Any | None:
    """`queryset` with its `parted_filter` condition taken out, or None when that condition is
    not one of the AND-ed top-level conditions (combined into an OR, negated, or absent):
    then reading the parts in its place would not be the same query."""
    clone = queryset.all()
    where = clone.query.where
    if where.connector != AND or where.negated:
        return None
    kept = [child for child in where.children if not isinstance(child, PartedCondition)]
    if len(kept) != len(where.children) - 1:
        return None
    where.children = kept
    return clone


def _evaluate(
    ordered: Any,
    ordering: Sequence[KeyField],
    limit: int,
    *,
    key: Sequence[Any] | None = None,
    backwards: bool = False,
    rows: bool = False,
) -> list[Any]:
    """The first `limit` rows of `ordered` (already cut after `key`). A queryset filtered with
    `parted_filter` that carries its `visibility_parts` (pieces of what a user may see, each
    on its own index: a supervisor's agency, the cases shared with it, those granted to them;
    `screening.querysets`) is read, where the database allows it, as the rows whose ids are
    among the first `limit` of a UNION of each piece's first `limit` ids in list order (each
    piece in place of the whole condition, after the key), ordered and cut again: PostgreSQL
    walks each index only as far as one page, where one OR over the pieces can only filter a
    walk of every case. Every row of the page is among its piece's first `limit`, and the
    UNION holds a row in two pieces once; cut to a page before `IN`, the page's query joins
    its related rows for a page of rows, not for every piece's. The pieces select ids and
    order values only (`_ids_of`), the page's own query its rows with their annotations and
    related rows. Same rows, same order: tested against the plain query."""
    parts = getattr(ordered, "visibility_parts", ())
    if len(parts) > 1 and connections[ordered.db].features.supports_slicing_ordering_in_compound:
        rest = _without_parted_condition(ordered)
        if rest is not None:
            ids, order = _ids_of(rest, ordering, backwards=backwards)
            pieces = [
                _piece(ids, part, ordering, key=key, backwards=backwards, rows=rows, limit=limit)
                for part in parts
            ]
            # `rest` is this read's own clone (as each piece is): narrowed and cut in place,
            # as `filter()` and slicing would on a copy of it.
            rest.query.add_q(Q(IdsIn(pieces, order=order, limit=limit)))
            rest.query.set_limits(high=limit)
            return list(rest)
    return list(ordered[:limit])


@dataclass(frozen=True)
class SqlPiece:
    """A piece of `IdsIn` given as SQL instead of a queryset: `render(connection)` returns
    a SELECT of one id column that references no outer query, with its params. It is for
    the small id sets that every case request rebuilds (a user's grants, the shares to
    their agency, their break-glass grants, their assignments: `screening.querysets`).
    Building and compiling a queryset for each of them took longer than running it
    (docs/benchmarks.md, bench/visibility_pieces.py). Each such piece is pinned by a test
    to the rows of the queryset it stands for, on SQLite and PostgreSQL."""

    render: Callable[[Any], tuple[str, Sequence[Any]]]


class IdsIn(Expression):
    """`pk IN ((piece) UNION ALL (piece) …)` (`union_all=False`: `UNION`), for querysets
    of ids that reference no outer query: what `Q(pk__in=first.union(*rest, all=True))`
    selects, with each piece compiled as it stands when the outer query is compiled. Django's
    own `__in` on a union first clones every piece and relabels its tables (`U0`, `V0`…) so
    that an outer reference could tell them apart; with none to tell apart, that work was a
    third of what the visibility rule cost an API page of cases (docs/benchmarks.md). Rows
    pinned to Django's `__in` on the union (tests/config/test_keyset.py) and the pages to the
    plain query (tests/screening/test_visible_lists.py), on SQLite and PostgreSQL. A piece
    may also be a `SqlPiece`, rendered as it is."""

    conditional = True
    output_field = BooleanField()

    def __init__(
        self,
        pieces: Sequence[Any],
        *,
        union_all: bool = True,
        order: Sequence[tuple[int, bool]] = (),
        limit: int | None = None,
    ) -> None:
        """With `order` and `limit`, the pieces (each selecting the id first, then the
        columns `order` names by position, with whether each runs descending) are merged
        with `UNION` (a row in two pieces is one) and cut to the first `limit` ids in that
        order before `IN` reads them: the outer query then joins only as many rows."""
        super().__init__()
        self.column: Any = F("pk")
        self.pieces = list(pieces)
        self.union_all = union_all and not order
        self.order = tuple(order)
        self.limit = limit

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, expressions: Sequence[Any]) -> None:
        (self.column,) = expressions

    def get_group_by_cols(self) -> list[Any]:
        return []

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        column, params = compiler.compile(self.column)
        parts = []
        for piece in self.pieces:
            if isinstance(piece, SqlPiece):
                sql, piece_params = piece.render(connection)
            else:
                try:
                    sql, piece_params = piece.query.get_compiler(connection=connection).as_sql()
                except EmptyResultSet:  # a piece that can hold no row, left out (as a union)
                    continue
            # Parenthesised where the database allows it (a piece may be ordered and cut,
            # PostgreSQL only: `_evaluate`).
            parts.append(
                f"({sql})" if connection.features.supports_parentheses_in_compound else sql
            )
            params = [*params, *piece_params]
        if not parts:
            raise EmptyResultSet
        joiner = " UNION ALL " if self.union_all else " UNION "
        merged = joiner.join(parts)
        if self.order:
            width = 1 + max(position for position, _ in self.order)
            names = ", ".join(f"c{index}" for index in range(width))
            order = ", ".join(
                f"merged.c{position}{' DESC' if descending else ''}"
                for position, descending in self.order
            )
            # Only column positions and an integer are spliced in: no value.
            merged = (
                f"SELECT merged.c0 FROM ({merged}) AS merged ({names}) ORDER BY {order}"  # noqa: S608
                f" LIMIT {int(self.limit)}"
            )
        return f"{column} IN ({merged})", params


def _ids_of(
    queryset: Any, ordering: Sequence[KeyField], *, backwards: bool
) -> tuple[Any, tuple[tuple[int, bool], ...]]:
    """The ids of `queryset`'s rows with the values of their order, for the pieces of a
    parted page, and that order by column position (for `IdsIn`'s cut of the merged pieces):
    no related rows and, unless the order reads one, none of the row's annotations (a filter
    on an annotation holds its expression, not the name), so that no piece copies or
    relabels their subqueries; the page's own query reads the rows with all of them."""
    pk_names = ("pk", queryset.model._meta.pk.name)
    others = [field.name for field in ordering if field.name not in pk_names]
    ids = queryset.values("pk", *others)
    if not any(field.name in ids.query.annotations for field in ordering):
        ids.query.annotations = {}
    order = tuple(
        (
            0 if field.name in pk_names else 1 + others.index(field.name),
            field.descending != backwards,
        )
        for field in ordering
    )
    return ids, order


def _piece(
    rest: Any,
    part: ListPart,
    ordering: Sequence[KeyField],
    *,
    key: Sequence[Any] | None,
    backwards: bool,
    rows: bool,
    limit: int,
) -> Any:
    """One part of a parted list, its first `limit` ids: `rest` (the list without its parted
    condition, already cut after the key on its own columns) narrowed to the part, and, for a
    part walked on another table's index, cut after the key and ordered on that table's
    copies of the order fields (in the same condition as the part's, so that both use the
    part's one join). Built on one copy of `rest`, as `filter()`, `order_by()` and slicing
    would build it."""
    piece = rest._chain()
    query = piece.query
    walk = dict(part.walk)
    if not walk or any(field.name not in walk for field in ordering):
        query.add_q(part.condition)
    else:
        walked = [replace(field, name=walk[field.name]) for field in ordering]
        condition = part.condition
        if key is not None:
            condition &= _beyond(walked, key, backwards, rows=rows)
        query.add_q(condition)
        query.clear_ordering(force=True, clear_default=False)
        query.add_ordering(
            *[field.reversed_order if backwards else field.order for field in walked]
        )
    query.set_limits(high=limit)
    return piece


class _RowCompare(Expression):
    """`(a, b, c) > (x, y, z)`: a row-value comparison, one range of an index on (a, b, c)."""

    def __init__(self, columns: Sequence[Any], operator: str, values: Sequence[Any]) -> None:
        super().__init__(output_field=BooleanField())
        self.columns, self.operator, self.values = list(columns), operator, list(values)

    def get_source_expressions(self) -> list[Any]:
        return [*self.columns, *self.values]

    def set_source_expressions(self, expressions: Sequence[Any]) -> None:
        self.columns = list(expressions[: len(self.columns)])
        self.values = list(expressions[len(self.columns) :])

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        sides, params = [], []
        for side in (self.columns, self.values):
            parts = []
            for expression in side:
                sql, expression_params = compiler.compile(expression)
                parts.append(sql)
                params.extend(expression_params)
            sides.append(", ".join(parts))
        return f"({sides[0]}) {self.operator} ({sides[1]})", params


def _row_values_supported(alias: str) -> bool:
    """Row-value comparisons, used by the planner as one index range: PostgreSQL, and SQLite
    (since 3.15; Django 5.2 needs 3.31)."""
    return connections[alias].vendor in ("postgresql", "sqlite")


def _beyond(
    fields: Sequence[KeyField], key: Sequence[Any], backwards: bool, *, rows: bool = False
) -> Q:
    """Rows strictly past `key` in the direction read. With `rows` and every field of the
    order running the same way, one row-value comparison; else the leading field's bound (for
    the index scan's start) and the lexicographic OR that makes the page exact."""

    def later(field: KeyField) -> bool:
        return field.descending == backwards  # ascending read forwards: later is greater

    if rows and len(fields) > 1 and len({field.descending for field in fields}) == 1:
        values = [value if hasattr(value, "resolve_expression") else Value(value) for value in key]
        operator = ">" if later(fields[0]) else "<"
        return Q(_RowCompare([F(field.name) for field in fields], operator, values))

    def lookup(field: KeyField, *, strict: bool) -> str:
        return f"{field.name}__{'gt' if later(field) else 'lt'}{'' if strict else 'e'}"

    condition = Q()
    for index, field in enumerate(fields):
        step = Q(**{lookup(field, strict=True): key[index]})
        for earlier, value in zip(fields[:index], key[:index], strict=True):
            step &= Q(**{earlier.name: value})
        condition |= step
    if len(fields) > 1:
        condition = Q(**{lookup(fields[0], strict=False): key[0]}) & condition
    return condition


def _rows_in_memory(
    rows: Sequence[Any],
    fields: Sequence[KeyField],
    key: Sequence[Any] | None,
    backwards: bool,
    limit: int,
    count_up_to: int | None,
) -> KeysetRows:
    if anchored(fields):
        raise ImproperlyConfigured("A list paged in memory is ordered on ids and timestamps.")
    ordered = list(rows)
    for field in reversed(fields):  # stable sorts, the last field first
        ordered.sort(key=lambda row, f=field: _value(row, f), reverse=field.descending)
    if backwards:
        ordered.reverse()
    if key is not None:
        target = tuple(key)

        def beyond(row: Any) -> bool:
            for field, value in zip(fields, target, strict=True):
                mine = _value(row, field)
                if mine != value:
                    later = (mine > value) != field.descending
                    return later != backwards
            return False

        ordered = [row for row in ordered if beyond(row)]
    page = ordered[: limit + 1]
    more = len(page) > limit
    page = page[:limit]
    if backwards:
        page.reverse()
    count = min(len(rows), count_up_to + 1) if count_up_to is not None else None
    return KeysetRows(page, more, count)


def _value(row: Any, field: KeyField) -> Any:
    return row.pk if field.name == "pk" else getattr(row, field.name)


@dataclass(frozen=True)
class KeysetPage:
    """One page of a list for a template: its rows, whether there are pages either side and
    the cursors to reach them (`previous_cursor` None with `has_previous`: the first page),
    and the list's size if it was counted (`count_more`: more than `count_bound`)."""

    rows: list[Any]
    has_next: bool
    has_previous: bool
    next_cursor: str | None
    previous_cursor: str | None
    count: int | None = None
    count_bound: int | None = None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def object_list(self) -> list[Any]:
        return self.rows

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous

    @property
    def count_more(self) -> bool:
        return (
            self.count is not None
            and self.count_bound is not None
            and (self.count > self.count_bound)
        )

    @property
    def size_known(self) -> bool:
        """The rows are the whole list (one page): their number is its size, for free."""
        return not self.has_other_pages


def keyset_page(
    queryset: Any,
    *,
    per_page: int,
    ordering: Sequence[str | tuple[str, type]] | Sequence[KeyField] | None = None,
    after: str | None = None,
    before: str | None = None,
    count_up_to: int | None = None,
) -> KeysetPage:
    """The page of `queryset` after the cursor `after` or before `before` (neither: the
    first page). `CursorInvalid` for a cursor this list did not give out."""
    if ordering and all(isinstance(item, KeyField) for item in ordering):
        fields: tuple[KeyField, ...] = tuple(ordering)  # type: ignore[arg-type]
    else:
        fields = keyset_ordering(queryset, ordering)  # type: ignore[arg-type]
    if after is not None and before is not None:
        raise CursorInvalid("a page has one cursor")
    after_key = cursor_decode(after, fields) if after is not None else None
    before_key = cursor_decode(before, fields) if before is not None else None
    read = keyset_rows(
        queryset,
        fields,
        after=after_key,
        before=before_key,
        limit=per_page,
        count_up_to=count_up_to,
    )
    if before_key is not None and not read.more and len(read.rows) < per_page:
        # Fewer rows than a page before the cursor (some went since it was given out): what
        # is left of the list's start is its first page, shown full.
        before_key = None
        read = keyset_rows(queryset, fields, limit=per_page, count_up_to=count_up_to)
    rows = read.rows
    if before_key is not None:
        has_previous, has_next = read.more, True
    else:
        has_previous, has_next = after_key is not None, read.more
    # With `has_previous` and no rows (nothing left after the cursor), the page before is
    # the first page: no cursor.
    previous_cursor = None
    if has_previous and rows:
        previous_cursor = cursor_encode(row_key(rows[0], fields))
    next_cursor = cursor_encode(row_key(rows[-1], fields)) if has_next else None
    return KeysetPage(
        rows=rows,
        has_next=has_next,
        has_previous=has_previous,
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
        count=read.count,
        count_bound=count_up_to,
    )
