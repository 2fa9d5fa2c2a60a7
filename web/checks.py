from django.core.checks import Error, register

from .rule_book import PROTOCOL, rule_ids


@register()
def protocol_present(app_configs, **kwargs):
    """The help page and every rule link are read from docs/protocol.md: an install without it is incomplete."""
    if not PROTOCOL.is_file() or not rule_ids():
        return [Error(f"{PROTOCOL} is missing or has no rule table: the rules help page needs it.", id="web.E001")]
    return []
