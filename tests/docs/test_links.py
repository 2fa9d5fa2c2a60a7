"""The README and docs/ stand alone: every relative link and every file path they name is in the repository."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# A file named from the repository root in backticks, e.g. `config/settings.py`.
FILE_PATH = re.compile(r"`([\w.-]+(?:/[\w.-]+)+\.(?:py|md|toml|yml|html))`")


def relative_links(document: Path) -> list[str]:
    links = LINK.findall(document.read_text(encoding="utf-8"))
    return [link for link in links if not re.match(r"^(?:[a-z][a-z0-9+.-]*:|#)", link)]


def test_the_documents_exist():
    assert (ROOT / "docs" / "protocol.md").is_file()
    assert (ROOT / "docs" / "api.md").is_file()
    assert all(document.is_file() for document in DOCUMENTS)


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: str(d.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(document):
    broken = []
    for link in relative_links(document):
        target = (document.parent / link.split("#", 1)[0]).resolve()
        if not target.is_relative_to(ROOT) or not target.exists():
            broken.append(link)
    assert broken == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: str(d.relative_to(ROOT)))
def test_no_document_points_beside_the_repository(document):
    assert "../shared" not in document.read_text(encoding="utf-8")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: str(d.relative_to(ROOT)))
def test_every_file_path_named_from_the_root_exists(document):
    named = FILE_PATH.findall(document.read_text(encoding="utf-8"))
    from_root = [path for path in named if (ROOT / path.split("/", 1)[0]).is_dir()]
    assert [path for path in from_root if not (ROOT / path).is_file()] == []
