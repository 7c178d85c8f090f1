"""Text longer than its column is a field error, on every database.

PostgreSQL refuses a value longer than a CharField's max_length with a DataError (a server
error, and the service's transaction lost), while SQLite stores it whole: a 5,000-character
concept label or stage name worked on the embedded database and failed in production. Forms
check lengths, but services are also called from other forms, the API and commands; one check
before every model save covers them all. Bulk writes (imports) shorten their values themselves.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models


def too_long(instance: models.Model) -> dict[str, str]:
    """{field name: message} for each text field whose value exceeds its max_length."""
    errors = {}
    for field in instance._meta.concrete_fields:
        if isinstance(field, models.CharField) and field.max_length:
            value = getattr(instance, field.attname)
            if isinstance(value, str) and len(value) > field.max_length:
                errors[field.name] = (
                    f"At most {field.max_length} characters, please ({len(value)} given)."
                )
    return errors


def refuse_too_long(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """pre_save receiver: ValidationError instead of the database's DataError."""
    if raw:  # fixtures load as they are
        return
    errors = too_long(instance)
    if update_fields is not None:
        errors = {k: v for k, v in errors.items() if k in update_fields}
    if errors:
        raise ValidationError(errors)
