"""Every rule of the clinical protocol is cited by the product's code and by its tests (shared/protocol.md)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = ROOT.parent / "shared" / "protocol.md"
PRODUCT = ["wardflow", "screening", "titration", "alerts", "web"]


def rule_ids() -> list[str]:
    return re.findall(r"^\| ([A-Z]\d+) \|", PROTOCOL.read_text(), re.MULTILINE)


def cited(paths: list[Path], rule: str) -> bool:
    pattern = re.compile(rf"\b{rule}\b")
    return any(pattern.search(p.read_text()) for p in paths)


@pytest.mark.skipif(not PROTOCOL.exists(), reason="shared/protocol.md is not beside this checkout")
def test_every_rule_is_cited_in_the_product_and_in_the_tests():
    product = [p for d in PRODUCT for p in (ROOT / d).rglob("*.py") if "migrations" not in p.parts]
    tests = list((ROOT / "tests").rglob("*.py"))
    ids = rule_ids()
    assert len(ids) >= 38
    assert [r for r in ids if not cited(product, r)] == []
    assert [r for r in ids if not cited(tests, r)] == []
