from django import template

register = template.Library()


@register.filter
def spaced(value: str) -> str:
    """observation_overdue -> observation overdue"""
    return str(value).replace("_", " ")
