"""asr/limits.py: every bound holds for any input (Hypothesis), cuts are visible and never split a
character, and the module ships in every Lambda zip (the zip alone imports every handler)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from asr import limits
from asr.build import build_lambda_zip, lambda_packages

ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=300)
BIG_TEXT = st.builds(lambda unit, n: unit * n, ANY_TEXT.filter(bool), st.integers(1, 3000))
TEXTS = ANY_TEXT | BIG_TEXT
SIZES = st.integers(0, 5000)


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@pytest.mark.fuzz
@given(TEXTS, SIZES)
def test_truncate_bytes_within_the_limit_encodable_and_a_prefix(text, limit):
    out = limits.truncate_bytes(text, limit)
    data = out.encode("utf-8")  # always encodes: no lone surrogate survives
    assert len(data) <= limit
    clean = limits.clean(text)
    if len(clean.encode("utf-8")) <= limit:
        assert out == clean
    else:
        kept = out.split("\u2026[truncated ")[0]
        assert clean.startswith(kept)
        if limit >= 40:  # room for the marker: the cut says how much went
            dropped = len(clean.encode("utf-8")) - len(kept.encode("utf-8"))
            assert out.endswith(f"\u2026[truncated {dropped} bytes]")


@pytest.mark.fuzz
@given(TEXTS, SIZES)
def test_truncate_chars_counts_utf16_units(text, limit):
    out = limits.truncate_chars(text, limit)
    assert _utf16(out) <= limit and len(out) <= limit
    out.encode("utf-8")


@pytest.mark.fuzz
@given(TEXTS, st.integers(2, 5000))
def test_truncate_json_string_bounds_the_escaped_size(text, limit):
    out = limits.truncate_json_string(text, limit)
    assert len(json.dumps(out).encode()) <= limit
    assert json.loads(json.dumps(out)) == out


@pytest.mark.fuzz
@given(TEXTS)
def test_per_field_helpers(text):
    value = limits.dimension_value(text)
    assert 1 <= len(value) <= 1024 and value.isascii() and value.isprintable() and value.strip()
    stream = limits.log_stream_name(text)
    assert 1 <= _utf16(stream) <= 512 and ":" not in stream and "*" not in stream
    note = limits.note_text(text)
    assert 1 <= _utf16(note) <= 512 and note.strip()
    attribute = limits.sns_attribute_value(text)
    assert len(attribute) <= limits.SNS_ATTRIBUTE_VALUE_CHARS and attribute.isascii()
    assert _utf16(limits.sfn_cause(text)) <= 32_768 and _utf16(limits.sfn_error(text)) <= 256


@pytest.mark.fuzz
@given(st.lists(st.sampled_from(["", "a", "\ud800", "x" * 300_000, "\u00e9" * 600_000]), max_size=12))
def test_log_batches_respect_every_put_log_events_limit(messages):
    events = [{"timestamp": i, "message": m} for i, m in enumerate(messages)]
    batches = limits.log_batches(events)
    assert [e["timestamp"] for b in batches for e in b] == list(range(len(messages)))  # order kept, none lost
    for batch in batches:
        assert 1 <= len(batch) <= 10_000 and limits.log_batch_size(batch) <= 1_048_576
        for event in batch:
            assert event["message"] and len(event["message"].encode()) + 26 <= 262_144


def test_clean_pairs_surrogates_and_replaces_lone_ones():
    assert limits.clean("a\ud83d\ude00b\udc00") == "a\U0001f600b\ufffd"
    assert limits.clean(b"x") == "b'x'"


def test_cut_is_visible_and_never_splits_a_character():
    out = limits.truncate_bytes("\U0001f600" * 100, 50)
    assert out.startswith("\U0001f600") and out.endswith("bytes]") and len(out.encode()) <= 50
    assert limits.truncate_chars("\U0001f600" * 600, 512).count("\U0001f600") < 256


def test_sns_size_counts_attributes():
    attrs = {"severity": {"DataType": "String", "StringValue": "ERROR"}}
    assert limits.sns_size("\u00e9", attrs) == 2 + len("severity") + len("String") + len("ERROR")


def test_fits_sfn_payload():
    assert limits.fits_sfn_payload({"a": "x" * 1000})
    assert not limits.fits_sfn_payload({"a": "x" * 262_144})


@pytest.mark.parametrize("package", lambda_packages(), ids=lambda p: p.name)
def test_the_built_zip_holds_asr_limits_and_imports_alone(package, tmp_path):
    """Each zip as the build writes it imports every module of its function from the zip alone
    (``python -I``, the zip first on sys.path), asr/limits.py included."""
    zip_path = build_lambda_zip(package, tmp_path)
    names = zipfile.ZipFile(zip_path).namelist()
    assert "asr/limits.py" in names and "asr/solution.py" in names
    modules = [
        n[:-3].replace("/", ".") for n in names if n.startswith(f"lambdas/{package.name}/") and n.endswith(".py")
    ]
    script = (
        "import importlib, sys\n"
        f"sys.path.insert(0, {str(zip_path)!r})\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "import asr.limits\n"
        "outside = sorted(n for n, m in sys.modules.items() if n.split('.')[0] in ('asr', 'lambdas')\n"
        f"                 and not (getattr(m, '__file__', '') or '').startswith({str(zip_path)!r}))\n"
        "assert not outside, outside\n"
        "print(asr.limits.__file__)\n"
    )
    done = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{zip_path}/asr/limits.py"
