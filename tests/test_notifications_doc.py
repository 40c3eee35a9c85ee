"""docs/notifications.md, "Limits and truncation": every figure as asr/limits.py has it, every
bounded field of asr/limits.py in the table, and the truncation markers as limits.py writes them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from asr import limits
from lambdas.orchestrator import payload

DOC = Path(__file__).resolve().parent.parent / "docs" / "notifications.md"
#: Constants of asr/limits.py that bound no field the solution sends (what they are for is said there).
NOT_A_FIELD = {
    "SSM_PARAMETER_ARN_PREFIX_CHARS",  # part of the SSM parameter name computation
    "LOG_EVENT_OVERHEAD_BYTES",  # part of the log event and batch sizes
    "SSM_AUTOMATION_PARAMETER_VALUE_CHARS",  # documented by AWS, not applied to the Finding (limits.py)
}


def _section() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## Limits and truncation")
    return text[start : text.index("\n## ", start + 1)]


def _rows() -> list[list[str]]:
    rows = []
    for line in _section().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 5 and cells[0] not in ("field", "---"):
            rows.append(cells)
    return rows


def test_every_figure_is_the_one_of_asr_limits():
    rows = _rows()
    assert len(rows) >= 15
    for field, figure, _unit, constant, _beyond in rows:
        name = constant.strip("`")
        assert hasattr(limits, name), (field, constant)
        assert int(figure.replace(",", "")) == getattr(limits, name), (field, figure, name)


def test_every_bounded_field_of_asr_limits_is_in_the_table():
    named = {cells[3].strip("`") for cells in _rows()}
    constants = {n for n in vars(limits) if re.fullmatch(r"[A-Z_]+_(?:BYTES|CHARS|EVENTS)", n)}
    assert constants - NOT_A_FIELD <= named, sorted(constants - NOT_A_FIELD - named)


def test_the_derived_figures_in_the_prose():
    section = _section()
    event = f"{limits.LOG_EVENT_BYTES:,} | bytes ({limits.LOG_EVENT_BYTES + limits.LOG_EVENT_OVERHEAD_BYTES:,} with"
    assert event in section
    assert f"the {limits.LOG_EVENT_OVERHEAD_BYTES} bytes AWS adds per event" in section
    assert f"{limits.LOG_EVENT_OVERHEAD_BYTES} per event included" in section
    assert f"a finding above {payload.INLINE_FINDING_BYTES:,} bytes travels by reference" in section


def _marker(documented: str) -> re.Pattern[str]:
    return re.compile(re.escape(documented).replace("N", r"[0-9]+") + r"\Z")


@pytest.mark.parametrize(
    ("documented", "cut"),
    [
        ("…[truncated N bytes]", lambda: limits.truncate_bytes("\u00e9" * 300, 100)),
        ("…[truncated N bytes]", lambda: limits.truncate_json_string('"\u65e5' * 300, 100)),
        ("…[truncated N characters]", lambda: limits.note_text("\U0001f600" * 600)),
        ("...[truncated N characters]", lambda: limits.dimension_value("\u00e9" * 2000)),
        ("...[truncated N characters]", lambda: limits.sns_attribute_value("x" * 300)),
    ],
)
def test_the_markers_are_the_ones_limits_writes(documented, cut):
    assert f"`{documented}`" in _section()
    assert _marker(documented).search(cut()), cut()
