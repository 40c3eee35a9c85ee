"""Every control a playbook remediates has an evaluator, written independently of the remediations."""

from __future__ import annotations

import ast
from pathlib import Path

from asr.controls import REGISTRY, load_all
from asr.playbooks import data

CONTROLS_DIR = Path(__file__).resolve().parents[2] / "asr" / "controls"


def test_every_consolidated_control_has_an_evaluator():
    load_all()
    sc = data.load_standard("SC")
    missing = sorted(c.control_id for c in [*sc.own(), *sc.remaps()] if c.control_id not in REGISTRY)
    assert not missing, f"SC controls without an evaluator: {missing}"


def test_every_evaluator_names_its_documentation_page():
    for spec in load_all().values():
        assert spec.doc.startswith("https://docs.aws.amazon.com/"), spec.control_id
        assert spec.evaluator.__doc__, f"{spec.control_id}: the evaluator says what it checks"


def test_evaluators_never_import_remediation_code():
    forbidden = ("remediation_runbooks", "lambdas", "playbooks", "asr.playbooks", "asr.simulator")
    for path in CONTROLS_DIR.glob("*.py"):
        if path.name == "mapping.py":  # not an evaluator: it maps playbook entries to consolidated controls
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"
