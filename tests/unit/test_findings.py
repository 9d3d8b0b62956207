"""results/findings/: each write-up of a teardown leak is a page with every section an upstream
report needs (repro, affected releases, the releases it does not affect, the introducing commit,
the newest commit where it reproduces, the closest public reports with their URLs, an issue
draft), listed in the folder's index, whose links point at files that exist. The repro's
compilation is checked by tests/integration/test_findings_repro.py (unit tests build nothing)."""
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

FINDINGS = Path(__file__).resolve().parents[2] / "results" / "findings"
SECTIONS = ("Summary", "Repro", "Affected releases", "Not affected", "Introducing commit",
            "Newest upstream commit", "Public reports", "Issue draft")
LINK = re.compile(r"\]\(([^)#\s]+)\)")


def pages():
    return sorted(p for p in FINDINGS.glob("*.md") if p.name != "README.md")


def sections(text):
    """{heading: body} of a page's second-level sections, in order."""
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return dict(zip(parts[1::2], (b.strip() for b in parts[2::2])))


def test_there_are_pages():
    assert len(pages()) >= 1, FINDINGS


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.name)
def test_each_page_has_every_section_in_order_and_filled(page):
    found = sections(page.read_text())
    assert list(k for k in found if k in SECTIONS) == list(SECTIONS), page.name
    assert all(found[s] for s in SECTIONS), [s for s in SECTIONS if not found[s]]


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.name)
def test_each_page_names_its_repro_and_cites_public_reports(page):
    text = page.read_text()
    found = sections(text)
    assert "repro/leak.c" in found["Repro"], "the page must give its standalone repro"
    assert "LD_PRELOAD=" in found["Repro"], "how to run it preloaded"
    assert re.search(r"https://\S+", found["Public reports"]), "closest reports need URLs"
    assert "measured.tsv" in found["Affected releases"], "figures must say where they come from"


@pytest.mark.parametrize("page", pages() + [FINDINGS / "README.md"], ids=lambda p: p.name)
def test_links_point_at_files_that_exist(page):
    for target in LINK.findall(page.read_text()):
        if not target.startswith(("http://", "https://")):
            assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_the_index_lists_every_page():
    index = (FINDINGS / "README.md").read_text()
    linked = set(LINK.findall(index))
    assert [p.name for p in pages() if p.name not in linked] == []


def test_every_repro_named_by_a_page_exists():
    for page in pages():
        for src in re.findall(r"results/findings/(\S+?\.c)\b", page.read_text()):
            assert (FINDINGS / src).is_file(), f"{page.name}: {src}"
