"""Log records never carry exception messages.

An exception's message often quotes the data that caused it (`invalid literal for int() with
base 10: '<what the caller typed>'`, a database's `Key (phone)=(…) already exists`), and
Django logs every unexpected error of a request with its traceback (`django.request`). So
every log record is made, at creation, with the traceback already written out (`exc_text`)
and each exception's message replaced by its type: the frames (file, line, function, code)
stay, the values go. `exc_info` is cleared so that no handler formats the original again.
Exceptions passed as message arguments are logged by their type too.

Installed for the whole process by `CoreConfig.ready()` (web, commands and Celery workers).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

WITHHELD = "(message withheld: it may hold case data)"
_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def _name(error: BaseException) -> str:
    kind = type(error)
    module = kind.__module__
    return (
        kind.__qualname__ if module in ("builtins", "__main__") else f"{module}.{kind.__qualname__}"
    )


def exception_text(error: BaseException) -> str:
    """The traceback `logging` would print for `error` (its chain included), with every
    exception's message replaced by WITHHELD."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = error
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    parts: list[str] = []
    # Oldest first, as Python prints a chain; each link is printed before the exception it
    # leads to.
    for index, (exception, _) in enumerate(reversed(chain)):
        if index:
            parts.append(chain[len(chain) - index][1])
        if exception.__traceback__ is not None:
            parts.append("Traceback (most recent call last):\n")
            parts.extend(traceback.format_tb(exception.__traceback__))
        parts.append(f"{_name(exception)}: {WITHHELD}\n")
    return "".join(parts).rstrip("\n")


def _redacted(record: logging.LogRecord) -> logging.LogRecord:
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = exception_text(record.exc_info[1])
        record.exc_info = None
    if isinstance(record.args, tuple) and any(
        isinstance(arg, BaseException) for arg in record.args
    ):
        record.args = tuple(
            _name(arg) if isinstance(arg, BaseException) else arg for arg in record.args
        )
    return record


def install_log_redaction() -> None:
    """Make every log record of this process through `_redacted` (idempotent)."""
    factory: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()
    if getattr(factory, "redacts_exceptions", False):
        return

    def record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _redacted(factory(*args, **kwargs))

    record_factory.redacts_exceptions = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(record_factory)
