"""docs/remediations.md is rendered from remediation_runbooks/effects/effects.yaml and the playbooks.

The checked-in page must equal what ``asr.remediation_docs`` renders now, and effects.yaml must
describe every remediation, no more, each with what it changes and its collateral effects.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from asr import remediation_docs as docs
from asr.playbooks import data


@pytest.fixture(scope="module")
def raw_effects() -> dict[str, Any]:
    return yaml.safe_load(docs.EFFECTS_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def page() -> str:
    return docs.render()


def test_checked_in_page_is_the_rendered_page(page: str) -> None:
    checked_in = docs.DOC_PATH.read_text(encoding="utf-8")
    assert checked_in == page, f"docs/remediations.md is stale: regenerate it with `{docs.COMMAND}`"


def test_every_remediation_has_changes_and_collateral() -> None:
    effects = docs.load_effects()
    assert set(effects) == docs.remediation_names()
    for name, effect in effects.items():
        assert effect.changes.strip(), name
        assert effect.collateral.strip(), name
        assert effect.changes != effect.collateral, name


def test_remediation_names_cover_runbooks_and_playbook_remediations() -> None:
    runbooks = {p.stem for p in docs.RUNBOOK_DIR.glob("*.yaml")}
    names = docs.remediation_names()
    assert runbooks <= names
    assert set(data.remediations()) <= names
    assert "effects" not in names  # effects.yaml is not a runbook


def test_every_consolidated_control_and_per_standard_control_is_listed(page: str) -> None:
    cells = [line.removeprefix("| ").split(" | ") for line in page.splitlines() if line.startswith("| ")]
    rows = [c for c in cells if len(c) == 3 and c[1].startswith(("`ASR-", "`AWS-"))]
    listed = [row[0].split(" ", 1)[0] for row in rows]
    assert len(listed) == len(set(listed))
    sc = data.load_standard("SC")
    assert set(listed) == {c.control_id for c in sc.entries}
    labels = docs.standard_labels()
    for std in data.standards():
        if std.consolidated:
            continue
        for control in std.entries:
            assert f"{labels[std.key]} {control.control_id}" in page, (std.key, control.control_id)


def test_every_described_remediation_appears_on_the_page(page: str) -> None:
    for name, remediation in data.remediations().items():
        assert f"`{remediation.document}`" in page, name
    for name in docs.remediation_names() - set(data.remediations()):
        assert f"`ASR-{name}`" in page, name


def test_missing_entry_is_reported_by_name(raw_effects: dict[str, Any]) -> None:
    raw = copy.deepcopy(raw_effects)
    del raw["EnableKeyRotation"]
    with pytest.raises(docs.EffectsError, match=r"no entry for remediation\(s\) EnableKeyRotation"):
        docs.parse_effects(raw, docs.remediation_names())


def test_renamed_entry_is_reported_by_both_names(raw_effects: dict[str, Any]) -> None:
    raw = copy.deepcopy(raw_effects)
    raw["EnableKeyRotations"] = raw.pop("EnableKeyRotation")
    with pytest.raises(docs.EffectsError) as err:
        docs.parse_effects(raw, docs.remediation_names())
    assert "no entry for remediation(s) EnableKeyRotation" in str(err.value)
    assert "unknown remediation(s) EnableKeyRotations" in str(err.value)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"changes": "Turns it on."}, "EnableMacie: collateral is missing or empty"),
        ({"changes": "Turns it on.", "collateral": "  "}, "EnableMacie: collateral is missing or empty"),
        ({"changes": "", "collateral": "Costs."}, "EnableMacie: changes is missing or empty"),
        ({"changes": "On.", "collateral": "Costs.", "risk": "x"}, "EnableMacie: unknown key(s) risk"),
        ("Turns it on.", "EnableMacie: must be a mapping"),
    ],
)
def test_incomplete_entry_is_reported_by_name(raw_effects: dict[str, Any], entry: Any, expected: str) -> None:
    raw = copy.deepcopy(raw_effects)
    raw["EnableMacie"] = entry
    with pytest.raises(docs.EffectsError) as err:
        docs.parse_effects(raw, docs.remediation_names())
    assert expected in str(err.value)


def test_main_fails_loudly_naming_the_remediation(
    raw_effects: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    raw = copy.deepcopy(raw_effects)
    del raw["SetIAMPasswordPolicy"]
    path = tmp_path / "effects.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    monkeypatch.setattr(docs, "EFFECTS_PATH", path)
    assert docs.main([]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "SetIAMPasswordPolicy" in captured.err


def test_main_writes_the_page(page: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert docs.main([]) == 0
    assert capsys.readouterr().out == page


def test_control_ids_are_joined_into_ranges() -> None:
    ids = ["IAM.7", "IAM.11", "IAM.12", "IAM.13", "S3.2", "S3.3", "CloudTrail.1", "CloudTrail.3"]
    assert docs._id_ranges(ids) == "IAM.7, IAM.11\u2013IAM.13, S3.2, S3.3, CloudTrail.1, CloudTrail.3"


def test_natural_control_order() -> None:
    ids = ["EC2.10", "EC2.2", "Autoscaling.5", "AutoScaling.1", "2.1.5.1", "2.1"]
    assert sorted(ids, key=docs.control_key) == ["2.1", "2.1.5.1", "AutoScaling.1", "Autoscaling.5", "EC2.2", "EC2.10"]
