"""Validate and normalise extraction answers by field type. Plain Python (no Django) so the
rules can be property-tested on their own; the service turns the errors into field errors."""

import math
from collections.abc import Sequence

SHORT_TEXT = "short_text"
LONG_TEXT = "long_text"
NUMBER = "number"
SINGLE_CHOICE = "single_choice"
MULTI_CHOICE = "multi_choice"
YES_NO_UNCLEAR = "yes_no_unclear"

TYPES = (SHORT_TEXT, LONG_TEXT, NUMBER, SINGLE_CHOICE, MULTI_CHOICE, YES_NO_UNCLEAR)
CHOICE_TYPES = (SINGLE_CHOICE, MULTI_CHOICE)
YES_NO_UNCLEAR_CHOICES = ("Yes", "No", "Unclear")
SHORT_TEXT_MAX = 500


class AnswerError(ValueError):
    """The answer does not fit its field; the message is shown next to the field."""


def _is_empty(raw) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, list | tuple):
        return all(_is_empty(v) for v in raw)
    return False


def clean_answer(
    field_type: str, raw, *, choices: Sequence[str] = (), required: bool = False
) -> str | int | float | list[str] | None:
    """Return the value to store (None for an empty answer) or raise AnswerError."""
    if field_type not in TYPES:
        raise AnswerError(f"Unknown field type: {field_type}")
    if _is_empty(raw):
        if required:
            raise AnswerError("This field is required.")
        return None
    if field_type == MULTI_CHOICE:
        values = raw if isinstance(raw, list | tuple) else [raw]
        picked = [str(v).strip() for v in values if not _is_empty(v)]
        unknown = [v for v in picked if v not in choices]
        if unknown:
            raise AnswerError(f"Not one of the choices: {', '.join(unknown)}.")
        # Keep the form's order and drop repeats so equal answers compare equal.
        return [c for c in choices if c in picked]
    if isinstance(raw, list | tuple):
        if len(raw) != 1:
            raise AnswerError("Give one answer.")
        raw = raw[0]
    text = str(raw).strip()
    if field_type == SHORT_TEXT:
        if "\n" in text:
            text = " ".join(text.split())
        if len(text) > SHORT_TEXT_MAX:
            raise AnswerError(f"Keep it under {SHORT_TEXT_MAX} characters (use a long text).")
        return text
    if field_type == LONG_TEXT:
        return text
    if field_type == NUMBER:
        try:
            number = float(text.replace(",", "")) if not isinstance(raw, int | float) else raw
        except ValueError as exc:
            raise AnswerError("Enter a number, e.g. 42 or 3.5.") from exc
        if isinstance(number, bool) or not math.isfinite(number):
            raise AnswerError("Enter a number, e.g. 42 or 3.5.")
        return int(number) if float(number).is_integer() else float(number)
    if field_type == SINGLE_CHOICE:
        if text not in choices:
            raise AnswerError(f"Not one of the choices: {text}.")
        return text
    # YES_NO_UNCLEAR: accept any case.
    for option in YES_NO_UNCLEAR_CHOICES:
        if text.lower() == option.lower():
            return option
    raise AnswerError("Answer yes, no or unclear.")


def clean_choices(raw: Sequence[str] | str) -> list[str]:
    """Choices typed one per line (or given as a list): stripped, blank lines and repeats
    dropped, order kept."""
    items = raw.splitlines() if isinstance(raw, str) else list(raw)
    out: list[str] = []
    for item in items:
        item = str(item).strip()
        if item and item not in out:
            out.append(item)
    return out


def display(value) -> str:
    """An answer as text for tables and exports."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    return str(value)
