"""Celery tasks of the screening app: thin, call a service, stable explicit names."""

from __future__ import annotations

from celery import shared_task

from screening.services.followups import case_task_reminders_send


@shared_task(name="screening.case_task_reminders_send", ignore_result=True)
def task_reminders_send(**kwargs: object) -> None:
    """Beat: remind assignees of tasks that fell due (no arguments, no case data)."""
    case_task_reminders_send()
