from django import template

from web.rule_book import link_rule_ids

register = template.Library()


@register.filter
def rule_links(value):
    """Refusals keep their words; each protocol rule id in them (S3, T4, ...) becomes a link to its explanation."""
    return link_rule_ids(value)
