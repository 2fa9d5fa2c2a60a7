"""Every rule the product enforces (a row of a rule table in docs/protocol.md) is cited by the product's code and by
its tests; a rule is either enforced or being built, never both."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "docs" / "protocol.md"
PRODUCT = ["config", "wardflow", "alerts", "screening", "titration", "web", "templates"]
RULE_ROW = re.compile(r"^\| ([A-Z]\d+) \|", re.MULTILINE)
BEING_BUILT = "## 2026.2 rules being built"
BULLET_ID = re.compile(r"^- \*\*([A-Z]\d+)\*\*", re.MULTILINE)


def protocol_text() -> str:
    assert PROTOCOL.is_file(), f"{PROTOCOL.relative_to(ROOT)} is missing: the product's clinical specification"
    return PROTOCOL.read_text(encoding="utf-8")


def table_rule_ids() -> list[str]:
    return RULE_ROW.findall(protocol_text())


def being_built_ids() -> list[str]:
    text = protocol_text()
    if BEING_BUILT not in text:
        return []
    section = text.split(BEING_BUILT, 1)[1].split("\n## ", 1)[0]
    return BULLET_ID.findall(section)


def product_files() -> list[Path]:
    files = []
    for top in PRODUCT:
        for path in (ROOT / top).rglob("*"):
            parts = path.relative_to(ROOT).parts
            if "migrations" in parts or not path.is_file():
                continue
            if path.suffix == ".py" or (path.suffix == ".html" and "templates" in parts):
                files.append(path)
    return files


def uncited(rules: list[str], files: list[Path]) -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in files]
    return [r for r in rules if not any(re.search(rf"\b{r}\b", t) for t in texts)]


def test_the_rule_tables_hold_the_enforced_rules():
    ids = table_rule_ids()
    assert len(ids) >= 38
    assert len(ids) == len(set(ids)), "a rule id is a row of more than one table"


def test_every_enforced_rule_is_cited_in_the_product_code():
    assert uncited(table_rule_ids(), product_files()) == []


def test_every_enforced_rule_is_cited_in_the_tests():
    assert uncited(table_rule_ids(), list((ROOT / "tests").rglob("*.py"))) == []


def test_a_rule_is_either_enforced_or_being_built():
    building = being_built_ids()
    assert sorted(set(building) & set(table_rule_ids())) == []
    assert len(building) == len(set(building))


def test_the_specification_is_version_2026_2():
    intro = protocol_text().split("\n## ", 1)[0]
    assert re.search(r"\bversion 2026\.2\b", intro), "docs/protocol.md's opening does not name version 2026.2"
