"""The policy document: schema, defaults, control ids, strict YAML, errors naming path and value."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from asr.policy import document as doc
from tests.policy.conftest import NOW, policy

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "policy").glob("*.yaml"))


def _error(text: str) -> doc.PolicyError:
    with pytest.raises(doc.PolicyError) as info:
        policy(text)
    return info.value


# --- the schema ---------------------------------------------------------------------------


def _objects(node, where="#"):
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            yield where, node
        for key, sub in node.items():
            yield from _objects(sub, f"{where}/{key}")
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            yield from _objects(sub, f"{where}/{i}")


def test_schema_is_draft_2020_12_with_id_descriptions_and_closed_objects():
    schema = doc.schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].startswith("https://")
    jsonschema.Draft202012Validator.check_schema(schema)
    objects = list(_objects(schema))
    assert len(objects) >= 8
    for where, obj in objects:
        if "properties" in obj:
            assert obj.get("additionalProperties") is False or where.endswith("/controls"), where
            for name, prop in obj["properties"].items():
                target = prop
                if "$ref" in prop and "description" not in prop:
                    target = schema["$defs"][prop["$ref"].rsplit("/", 1)[1]]
                assert target.get("description"), f"{where}/properties/{name} has no description"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_valid_policies(path):
    loaded = doc.load(path, now=NOW)
    assert loaded.version == 1
    assert not [w for w in loaded.warnings if "expired" in w.message]  # at NOW (2026-01-01)
    # the schema alone accepts them too (what an editor with the published schema sees)
    jsonschema.Draft202012Validator(doc.schema()).validate(doc.parse_yaml(path.read_bytes()))


def test_examples_exist():
    assert len(EXAMPLES) >= 3


# --- defaults and normalization ------------------------------------------------------------


def test_minimal_policy_is_todays_behaviour():
    p = policy("version: 1\n")
    normalized = p.to_json()
    assert normalized["global"] == {
        "enabled": True,
        "mode": "auto",
        "scope": {},
        "exemptions": [],
        "allow_manual_override": False,
        "retries": {"attempts": 1, "backoff_seconds": 60, "on": ["FAILED", "TIMEDOUT"], "cap_per_account_region": 10},
        "deadline": None,
    }
    assert normalized["controls"] == {}
    assert doc.default_policy().to_json()["global"] == normalized["global"]


def test_normalized_form_is_a_policy_that_normalizes_to_itself():
    import yaml

    p = doc.load(ROOT / "examples" / "policy" / "full.yaml")
    again = doc.loads(yaml.safe_dump(p.to_json(), sort_keys=False))
    assert again.to_json() == p.to_json()


def test_sha256_is_of_the_bytes():
    import hashlib

    text = "version: 1\nglobal: {mode: manual}\n"
    assert doc.loads(text).sha256 == hashlib.sha256(text.encode()).hexdigest()


# --- control ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "control"),
    [
        ("S3.2", "S3.2"),
        ("AFSBP:S3.2", "S3.2"),
        ("CIS120:2.1", "CloudTrail.1"),
        ("CIS 1.2.0:2.1", "CloudTrail.1"),
        ("cis 1.4.0:3.1", "CloudTrail.1"),
        ("CIS120:1.5", "IAM.11"),
        ("CIS120:4.1", "EC2.13"),
        ("PCI:PCI.S3.2", "S3.2"),
        ("NIST80053:S3.2", "S3.2"),
    ],
)
def test_per_standard_ids_map_to_the_consolidated_control(key, control):
    p = policy(f'version: 1\ncontrols:\n  "{key}": {{mode: manual}}\n')
    assert list(p.controls) == [control]
    assert p.controls[control].key == key
    assert (p.mapped == {key: control}) is (key != control)


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("S3.99", ["S3.99", "is not a Security Hub control ASR remediates"]),
        ("s3.2", ["did you mean S3.2"]),
        ("AFSBP:S3.99", ["not a control of playbook AFSBP"]),
        ("CIS:2.1", ["names several playbooks", "CIS120"]),
        ("FOO:S3.2", ["names no playbook 'FOO'"]),
    ],
)
def test_unknown_control_ids_are_errors_naming_the_value(key, words):
    err = _error(f'version: 1\ncontrols:\n  "{key}": {{}}\n')
    assert err.value == key
    assert err.path == doc.child("controls", key)
    for word in words:
        assert word in str(err)


def test_the_same_control_twice_after_mapping_is_an_error():
    err = _error("version: 1\ncontrols:\n  S3.2: {}\n  AFSBP:S3.2: {mode: manual}\n")
    assert err.path == "controls.AFSBP:S3.2" or err.path == 'controls["AFSBP:S3.2"]'
    assert "is control S3.2 again (already given as controls.S3.2)" in str(err)


# --- errors: path and value ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "path", "words"),
    [
        ("version: 2\n", "version", ["1 was expected"]),
        ("version: 1\nglobal: {mode: fast}\n", "global.mode", ["'fast' is not one of"]),
        ("version: 1\nglobal: {enabled: yes}\n", "global.enabled", ["'yes' is not of type 'boolean'"]),
        ("version: 1\nglobal: {modes: auto}\n", "global.modes", ["not a known key", "did you mean 'mode'"]),
        ("version: 1\nextra: 1\n", "extra", ["not a known key"]),
        ("global: {}\n", "version", ["is required"]),
        (
            "version: 1\nglobal:\n  scope: {include: {accounts: ['12345']}}\n",
            "global.scope.include.accounts[0]",
            ["does not match"],
        ),
        (
            'version: 1\nglobal:\n  scope: {include: {accounts: ["111111111111\\n"]}}\n',
            "global.scope.include.accounts[0]",
            ["is not an account id"],
        ),
        (
            "version: 1\nglobal:\n  scope: {include: {ous: [ou-bad]}}\n",
            "global.scope.include.ous[0]",
            ["does not match"],
        ),
        ("version: 1\nglobal:\n  scope: {include: {tags: [5]}}\n", "global.scope.include.tags[0]", ["'key=value'"]),
        ("version: 1\nglobal:\n  scope: {include: {tags: ['=v']}}\n", "global.scope.include.tags[0]", ["no tag key"]),
        ("version: 1\nglobal: {deadline: 3 days}\n", "global.deadline", ["is not a duration"]),
        ("version: 1\nglobal: {deadline: 400d}\n", "global.deadline", ["between 1s and 365d"]),
        ("version: 1\nglobal: {retries: {attempts: 0}}\n", "global.retries.attempts", ["less than the minimum"]),
        ("version: 1\nglobal: {retries: {on: [CANCELLED]}}\n", "global.retries.on[0]", ["'CANCELLED' is not one of"]),
        ("version: 1\ncontrols: []\n", "controls", ["is not of type 'object'"]),
        ("[1, 2]\n", "(document)", ["must be a mapping"]),
        ("", "(document)", ["is empty"]),
    ],
)
def test_errors_name_the_path_and_value(text, path, words):
    err = _error(text)
    assert err.path == path, str(err)
    for word in words:
        assert word in str(err), str(err)


EXEMPTION = "version: 1\nglobal:\n  exemptions:\n    - {}\n"


@pytest.mark.parametrize(
    ("body", "path", "words"),
    [
        ("{resource: a, reason: r, owner: o}", "global.exemptions[0].expires", ["is required"]),
        ("{reason: r, owner: o, expires: '2026-01-01T00:00:00Z'}", "global.exemptions[0]", ["exactly one of"]),
        (
            "{resource: a, tag: k, reason: r, owner: o, expires: '2026-01-01T00:00:00Z'}",
            "global.exemptions[0]",
            ["exactly one of"],
        ),
        ("{resource: a, reason: r, owner: o, expires: 2026-01-01}", "global.exemptions[0].expires", ["does not match"]),
        (
            "{resource: a, reason: r, owner: o, expires: '2026-01-01T00:00:00'}",
            "global.exemptions[0].expires",
            ["does not match"],
        ),
        (
            "{resource: a, reason: r, owner: o, expires: '2026-02-30T00:00:00Z'}",
            "global.exemptions[0].expires",
            ["not a valid date"],
        ),
        (
            "{resource: a, reason: ' ', owner: o, expires: '2026-01-01T00:00:00Z'}",
            "global.exemptions[0].reason",
            ["blank"],
        ),
    ],
)
def test_exemption_errors(body, path, words):
    err = _error(EXEMPTION.replace("{}", body))
    assert err.path == path, str(err)
    for word in words:
        assert word in str(err), str(err)


def test_expires_accepts_offsets_and_fractions_and_normalizes_to_utc():
    p = policy(EXEMPTION.replace("{}", "{resource: a, reason: r, owner: o, expires: 2026-06-30T09:00:00.5+02:00}"))
    (e,) = p.global_rules.exemptions
    assert doc.format_time(e.expires) == "2026-06-30T07:00:00.500000Z"


def test_all_schema_problems_are_listed():
    err = _error("version: 3\nglobal: {mode: x, enabled: 1}\nfoo: 1\n")
    assert {i.path for i in err.issues} == {"version", "global.mode", "global.enabled", "foo"}


# --- strict YAML ------------------------------------------------------------------------------


def test_duplicate_keys_are_errors():
    err = _error("version: 1\nglobal:\n  mode: auto\n  mode: manual\n")
    assert err.path == "global.mode"
    assert "given twice (again at line 4" in str(err)


def test_anchors_and_aliases_are_refused():
    err = _error("version: 1\nglobal: &g {mode: auto}\ncontrols:\n  S3.2: *g\n")
    assert "anchor or alias" in str(err)
    assert err.path.startswith("line 2")


def test_billion_laughs_is_refused_quickly():
    lines = ["version: 1", 'a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [{','.join(['*a' + str(i - 1)] * 9)}]" for i in range(1, 10)]
    err = _error("\n".join(lines) + "\n")
    assert "anchor or alias" in str(err)


def test_deep_nesting_is_refused():
    err = _error("version: 1\ndescription: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nests deeper than" in str(err)


def test_size_cap():
    text = "version: 1\ndescription: '" + "x" * doc.MAX_DOCUMENT_BYTES + "'\n"
    err = _error(text)
    assert err.path == "(document)"
    assert f"larger than {doc.MAX_DOCUMENT_BYTES} bytes" in str(err)


def test_non_string_keys_and_yaml_only_types():
    err = _error("version: 1\ncontrols:\n  2.1: {}\n")
    assert "not a string" in str(err) and "quote it" in str(err) and err.value == 2.1
    err = _error("version: 1\ndescription: !!binary aGVsbG8=\n")
    assert err.path == "description" and "not a JSON value" in str(err)


def test_yaml_syntax_errors_name_line_and_column():
    err = _error("version: 1\nglobal: {mode: auto\n")
    assert err.path.startswith("line ")
    assert "not valid YAML" in str(err)


def test_not_utf8():
    with pytest.raises(doc.PolicyError) as info:
        doc.loads(b"version: 1\ndescription: \xff\xfe\n")
    assert "is not UTF-8" in str(info.value) and info.value.path == "(document) byte 24"


def test_timestamps_and_yes_no_stay_strings():
    raw = doc.parse_yaml("a: 2026-01-01T00:00:00Z\nb: no\nc: on\nd: true\n")
    assert raw == {"a": "2026-01-01T00:00:00Z", "b": "no", "c": "on", "d": True}


# --- warnings -----------------------------------------------------------------------------------


def test_include_exclude_overlap_and_expired_exemptions_are_warned():
    text = """\
        version: 1
        global:
          scope:
            include: {accounts: ["111111111111", "222222222222"], tags: [Env=prod]}
            exclude: {accounts: ["222222222222"], tags: [{key: Env, value: prod}]}
          exemptions:
            - {resource: a, reason: r, owner: o, expires: "2025-12-31T23:59:59Z"}
            - {resource: b, reason: r, owner: o, expires: "2026-01-01T00:00:01Z"}
    """
    p = policy(text, now=NOW)
    messages = {w.path: w.message for w in p.warnings}
    assert "exclude wins" in messages["global.scope.exclude.accounts[0]"]
    assert "exclude wins" in messages["global.scope.exclude.tags[0]"]
    assert "expired 2025-12-31T23:59:59Z" in messages["global.exemptions[0].expires"]
    assert "global.exemptions[1].expires" not in messages
    assert not policy(text).warnings or all("expired" not in w.message for w in policy(text).warnings)


def test_glob_is_anchored_and_literal():
    assert doc.glob_regex("arn:aws:s3:::prod-*").fullmatch("arn:aws:s3:::prod-logs")
    assert not doc.glob_regex("arn:aws:s3:::prod-*").fullmatch("xarn:aws:s3:::prod-logs")
    assert not doc.glob_regex("arn:aws:s3:::prod").fullmatch("arn:aws:s3:::prod-logs")
    assert doc.glob_regex("arn:aws:ec2:*:*:instance/i-?").fullmatch("arn:aws:ec2:us-east-1:1:instance/i-1")
    assert not doc.glob_regex("arn:aws:ec2:*:*:instance/i-?").fullmatch("arn:aws:ec2:us-east-1:1:instance/i-12")
    assert not doc.glob_regex("a.c[1]").fullmatch("abc1")
    assert doc.glob_regex("a.c[1]").fullmatch("a.c[1]")
    assert doc.glob_regex("*").fullmatch("line\nbreak")


def test_durations():
    assert [doc.parse_duration(t, "p") for t in ("90m", "72h", "3d", "1d12h", "30s")] == [
        5400,
        259200,
        259200,
        129600,
        30,
    ]
    assert doc.format_duration(129600) == "1d12h"


def test_schema_json_is_valid_json_file():
    json.loads(doc.SCHEMA_PATH.read_text(encoding="utf-8"))
