"""`{{ code|label:"kind" }}` and `{{ codes|labels:"kind" }}`: stored codes in the words a person
reads (config/labels.py)."""

from django import template

from config import labels as vocabulary

register = template.Library()


@register.filter(name="label")
def label(code, kind: str) -> str:
    return vocabulary.label(code, kind)


@register.filter(name="labels")
def labels(codes, kind: str) -> str:
    """A list of codes as their labels, joined with commas ("" for none)."""
    return ", ".join(vocabulary.labels(codes or (), kind))
