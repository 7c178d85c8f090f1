from django import template

register = template.Library()


@register.filter
def join_if_list(value, sep: str = "; "):
    """Render an extraction answer: lists (multiple choice) joined, scalars as they are."""
    if isinstance(value, list | tuple):
        return sep.join(str(v) for v in value)
    return value


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
