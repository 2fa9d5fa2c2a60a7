import json

from django import template

register = template.Library()


@register.filter
def pretty_json(value) -> str:
    """An audit event's recorded values (D1), indented for reading; none recorded as a dash."""
    if value is None:
        return "—"
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
