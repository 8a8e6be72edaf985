"""One place that turns a stored code into the words a person reads on a page.

Each app says what its codes mean in its own `labels.py` (found at start-up, as the admin
finds `admin.py`), so this module imports no app: `labels_register("service_type",
ServiceType)` with a Choices class, a mapping, or a function of the code. Templates use the
`label` filter (config/templatetags/labels.py): `{{ consent.service_type|label:"service_type" }}`.

A code no vocabulary knows is still shown in words ("legal_aid" → "Legal aid"), never as the
code, so a new value reads plainly before anyone writes its label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

_VOCABULARIES: dict[str, Callable[[Any], str | None]] = {}
_CODES: dict[str, frozenset[str]] = {}


def labels_register(kind: str, source: Any) -> None:
    """`source`: a Django Choices class, a mapping of code → label, or `code -> label | None`."""
    if isinstance(source, type) and hasattr(source, "choices"):
        source = {value: text for value, text in source.choices}
    if isinstance(source, Mapping):
        mapping = {str(key): str(value) for key, value in source.items()}
        _VOCABULARIES[kind] = mapping.get
        _CODES[kind] = frozenset(mapping)
    elif callable(source):
        _VOCABULARIES[kind] = source
    else:
        raise TypeError(f"labels for {kind!r}: a Choices class, a mapping or a function")


def code_words(code: Any) -> str:
    """A code in plain words when no label is known: `legal_aid` → `Legal aid`."""
    text = str(code).replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def label(code: Any, kind: str) -> str:
    """The label of `code` in the vocabulary `kind` (its words if unknown; "" stays "")."""
    if code is None or code == "":
        return ""
    if isinstance(code, bool):
        return "Yes" if code else "No"
    lookup = _VOCABULARIES.get(kind)
    if lookup is None:
        raise LookupError(f"no labels registered for {kind!r}")
    found = lookup(str(code) if kind in _CODES else code)
    return found if found else code_words(code)


def labels(codes: Iterable[Any], kind: str) -> list[str]:
    return [label(code, kind) for code in codes]


def known_kinds() -> list[str]:
    return sorted(_VOCABULARIES)


def known_codes() -> dict[str, frozenset[str]]:
    """The codes of every vocabulary given as a list (for tests that look for them on pages)."""
    return dict(_CODES)
