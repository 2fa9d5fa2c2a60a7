"""The protocol's rules in plain words, read from the rule tables of docs/protocol.md (the one source of the rule ids
and their wording): the help page lists them, and every rule id shown on a page links to its explanation there."""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

PROTOCOL = Path(settings.BASE_DIR) / "docs" / "protocol.md"
SECTION = re.compile(r"^## (.+)$")
RULE_ROW = re.compile(r"^\| ([A-Z]\d+) \| (.+) \| (.+) \|\s*$")
# A rule id standing on its own (not inside "A10" or "DEMO-1"); only ids of the protocol are linked.
RULE_ID = re.compile(r"(?<![\w-])([A-Z]\d{1,2})(?![\w-])")
TAG = re.compile(r"(<[^>]+>)")
BOLD = re.compile(r"\*\*(.+?)\*\*")
CODE = re.compile(r"`(.+?)`")


@dataclass(frozen=True)
class Rule:
    id: str
    text: str
    source: str

    @property
    def anchor(self) -> str:
        return f"rule-{self.id}"

    @property
    def html(self) -> SafeString:
        """The rule's wording with the protocol's bold and code marks, its references to other rules linked."""
        text = CODE.sub(r"<code>\1</code>", BOLD.sub(r"<strong>\1</strong>", escape(self.text)))
        return link_rule_ids(mark_safe(text))  # noqa: S308 - escaped above; only our own tags added


@dataclass(frozen=True)
class RuleSection:
    title: str
    rules: tuple[Rule, ...]


@cache
def rule_sections() -> tuple[RuleSection, ...]:
    """Each table of rules under its heading, in the protocol's order (read once per process)."""
    sections, title, rules = [], "", []
    for line in PROTOCOL.read_text(encoding="utf-8").splitlines():
        if heading := SECTION.match(line):
            if rules:
                sections.append(RuleSection(title, tuple(rules)))
            title, rules = heading.group(1), []
        elif row := RULE_ROW.match(line):
            rules.append(Rule(*(cell.strip() for cell in row.groups())))
    if rules:
        sections.append(RuleSection(title, tuple(rules)))
    return tuple(sections)


@cache
def rule_ids() -> frozenset[str]:
    return frozenset(rule.id for section in rule_sections() for rule in section.rules)


def rule_url(rule_id: str) -> str:
    return f"{reverse('rules')}#rule-{rule_id}"


def _link(match: re.Match) -> str:
    rule_id = match.group(1)
    if rule_id not in rule_ids():
        return rule_id
    return f'<a class="rule-link" href="{rule_url(rule_id)}">{rule_id}</a>'


def link_rule_ids(value) -> SafeString:
    """Escape the text (unless it is already safe HTML) and make every protocol rule id in it a link to its
    explanation; tags of safe HTML are left as they are."""
    parts = TAG.split(str(conditional_escape(value)))
    # Odd parts are tags: only the text between them is searched.
    return mark_safe("".join(part if i % 2 else RULE_ID.sub(_link, part) for i, part in enumerate(parts)))  # noqa: S308
