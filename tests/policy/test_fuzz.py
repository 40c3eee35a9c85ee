"""Fuzz of the policy reader: whatever the bytes, a valid Policy or a PolicyError naming a path
and the value, never another exception (HYPOTHESIS_PROFILE=fuzz runs 10,000 examples)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from asr.policy import document as doc

pytestmark = pytest.mark.fuzz

FULL = doc.parse_yaml((Path(__file__).resolve().parents[2] / "examples" / "policy" / "full.yaml").read_bytes())

ODD_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=())
    | st.sampled_from(["\ud800", "\ufeff", "\x00", "\u202e", "\U0001f600"]),
    max_size=60,
)
JSON_LEAF = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | ODD_TEXT
JSON_VALUE = st.recursive(
    JSON_LEAF, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ODD_TEXT, inner, max_size=4), max_leaves=12
)


def _check(data: bytes | str) -> None:
    try:
        policy = doc.loads(data)
    except doc.PolicyError as err:
        assert err.issues
        for issue in err.issues:
            assert issue.path, err
            assert isinstance(issue.problem, str) and issue.problem
        text = str(err)
        assert err.issues[0].path in text
        assert "(got " in text
        assert len(text) < 20_000  # bounded whatever the input
        text.encode("utf-8")  # always printable
        return
    assert policy.version == 1
    json.dumps(policy.to_json())


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for key, sub in node.items():
            yield from _paths(sub, (*path, key))
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _paths(sub, (*path, i))


PATHS = [p for p in _paths(FULL) if p]


def _set(document, path, value):
    node = document
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return document


@given(st.binary(max_size=400))
def test_random_bytes(data):
    _check(data)


@given(ODD_TEXT)
def test_random_text(text):
    _check(text)
    _check("version: 1\ndescription: " + json.dumps(text) + "\n")


@given(JSON_VALUE)
def test_random_json_documents(value):
    _check(json.dumps(value))
    _check(json.dumps({"version": 1, "global": value}))
    _check(json.dumps({"version": 1, "controls": value}))


@given(st.sampled_from(PATHS), JSON_VALUE)
def test_one_value_of_a_valid_policy_replaced(path, value):
    document = _set(copy.deepcopy(FULL), path, value)
    _check(json.dumps(document))


@given(st.sampled_from(PATHS), ODD_TEXT, JSON_VALUE)
def test_unknown_keys(path, key, value):
    document = copy.deepcopy(FULL)
    node = document
    for part in path:
        if isinstance(node, dict | list):
            node = node[part]
    if isinstance(node, dict):
        node[key] = value
    _check(yaml.safe_dump(document, allow_unicode=True))


@given(st.integers(min_value=1, max_value=4), st.integers(min_value=100, max_value=3000))
def test_huge_documents(kind, n):
    if kind == 1:
        text = "version: 1\ncontrols:\n" + "".join(f"  S3.{i}: {{}}\n" for i in range(n))
    elif kind == 2:
        entry = '    - {resource: "arn:aws:s3:::b", reason: r, owner: o, expires: "2027-01-01T00:00:00Z"}\n'
        text = "version: 1\nglobal:\n  exemptions:\n" + entry * n
    elif kind == 3:
        text = "version: 1\ndescription: " + "[" * n + "]" * n + "\n"
    else:
        text = "version: 1\ndescription: '" + "\u00e9" * (n * 100) + "'\n"
    _check(text)
