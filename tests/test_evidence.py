"""Evidence: the citation registry and the knowledge-base version."""

from __future__ import annotations

import re

import pytest

import cluneal
from cluneal.alerts import SafetyAlert, Severity, sort_alerts
from cluneal.errors import UnknownTermError
from cluneal.evidence import EvidenceLevel, SourceMark, all_citations, citation, is_verified


def test_registry_loads_and_ids_are_unique_and_well_formed() -> None:
    """STYLE.md: the knowledge base is validated when loaded; every id is stable text."""
    table = all_citations()
    assert len(table) >= 40
    for cid, entry in table.items():
        assert cid == entry.id
        assert re.fullmatch(r"[a-z0-9_]+", cid)
        assert entry.title


@pytest.mark.parametrize(
    ("cid", "year", "mark"),
    [
        ("kuniya_2014", 2014, SourceMark.V),
        ("isu_2018", 2018, SourceMark.V),
        ("inker_2021", 2021, SourceMark.V),
        ("beers_2023", 2023, SourceMark.V),
        ("cockcroft_gault_1976", 1976, SourceMark.V2),
        ("cpic_tca_2017", 2017, SourceMark.GK),
    ],
)
def test_key_citations(cid: str, year: int, mark: SourceMark) -> None:
    """clinical.md: the sources and their marks as the reference records them."""
    c = citation(cid)
    assert (c.year, c.mark) == (year, mark)
    assert c.verified is (mark is not SourceMark.GK)
    assert str(year) in str(c)


def test_gk_sources_are_unverified() -> None:
    """clinical.md: [GK] rules are marked as unverified."""
    assert not is_verified("cpic_tca_2017")
    assert is_verified("kuniya_2014")
    assert not SourceMark.GK.verified


def test_unknown_citation_is_refused() -> None:
    """An unknown id is an error naming the field, never a KeyError."""
    with pytest.raises(UnknownTermError, match="citation"):
        citation("nope")


def test_version_is_reported() -> None:
    """The knowledge base has a version string."""
    assert re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", cluneal.KNOWLEDGE_BASE_VERSION)


def test_evidence_levels_have_labels() -> None:
    """Expert opinion built on case series is said so."""
    assert EvidenceLevel.EXPERT_OPINION.label == "expert opinion built on case series"
    assert all(level.label for level in EvidenceLevel)


def test_alert_sorting_and_text() -> None:
    """clinical.md 0.6: contraindicated > major > moderate > info."""

    def mk(sev: str, rid: str) -> SafetyAlert:
        return SafetyAlert(severity=sev, message="m", rule_id=rid, citation="beers_2023")

    alerts = [mk("info", "d"), mk("contraindicated", "c"), mk("moderate", "b"), mk("major", "a")]
    assert [a.severity for a in sort_alerts(alerts)] == [
        Severity.CONTRAINDICATED,
        Severity.MAJOR,
        Severity.MODERATE,
        Severity.INFO,
    ]
    assert str(mk("major", "x")) == "MAJOR: m [x; beers_2023]"


def _cited_ids(node: object) -> list[str]:
    if isinstance(node, dict):
        ids: list[str] = []
        for key, value in node.items():
            if key in {"citation", "second_line_citation"} and isinstance(value, str):
                ids.append(value)
            elif key == "citations" and isinstance(value, list):
                ids.extend(v for v in value if isinstance(v, str))
            else:
                ids.extend(_cited_ids(value))
        return ids
    if isinstance(node, list):
        return [i for item in node for i in _cited_ids(item)]
    return []


def test_every_citation_in_every_knowledge_file_resolves() -> None:
    """STYLE.md: every rule's citation id resolves, in every file of the knowledge base."""
    from importlib import resources

    from cluneal.knowledge import read_toml

    root = resources.files("cluneal.knowledge")
    files = [f.name for f in root.iterdir() if f.name.endswith(".toml")]
    files += [f"monographs/{f.name}" for f in root.joinpath("monographs").iterdir()]
    checked = 0
    for name in files:
        if name.startswith("citations"):
            continue
        for cid in _cited_ids(read_toml(name)):
            citation(cid)
            checked += 1
    assert checked > 100
