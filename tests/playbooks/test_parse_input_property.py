"""Property test of ParseInput (issue 14): the generated script, with the real inputs of every
generated control runbook, over generated hostile findings.

Invariants, whatever the finding:

* no exception but ``ValueError``;
* every refusal names the finding field (``finding field <path>``) and shows its value;
* an accepted finding is remediated in the finding's own account and Region, on a resource
  id taken from its ``Resources[0].Id``, whose ARN names no other account or Region.

The default run is small (tests/conftest.py profile ``default``); ``HYPOTHESIS_PROFILE=fuzz``
runs 10,000 examples.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from asr.playbooks import data, generator
from tests.conftest import ACCOUNT, OTHER_ACCOUNT, REGION
from tests.playbooks.harness import NAMESPACE, OTHER_REGION, RESOURCE_TYPES, finding_for, sample

FIELD = re.compile(r"^finding field (\S+?):? ")


def _script() -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(generator.parse_script(), "parse_input", "exec"), namespace)  # the embedded text
    return namespace


SCRIPT = _script()


def _cases() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(runbook, its ParseInput InputPayload, a finding it accepts) for every generated runbook."""
    out = []
    for std in data.standards():
        runbooks = generator.control_runbooks(std, NAMESPACE)
        for control in std.own():
            name = std.control_runbook(control.control_id)
            rem = data.remediations()[control.remediation]
            rid, _ = sample(rem.regex.name)
            finding = finding_for(
                std, control.control_id, rid, resource_type=RESOURCE_TYPES.get(rem.regex.name, "Other")
            )
            payload = runbooks[name]["mainSteps"][0]["inputs"]["InputPayload"]
            out.append((name, payload, finding))
    return out


CASES = _cases()

_ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\n",
        "\u0661" * 12,  # Arabic-Indic digits
        f"{ACCOUNT}\n",
        "us-east-\u0661",
        "\ud800",  # a lone surrogate, as json.loads makes from "\\ud800"
        "x" * 300_000,
        "arn:aws:lambda:us-east-1::function:",
        "AWS::::Account:" + OTHER_ACCOUNT,
        "{{ global:ACCOUNT_ID }}",
    ]
)
_WRONG_TYPES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_VALUES = st.one_of(_WRONG_TYPES, _ODD_TEXT, st.text(max_size=40))
_PATHS = [
    ("Id",),
    ("AwsAccountId",),
    ("ProductArn",),
    ("Region",),
    ("Resources",),
    ("Resources", 0),
    ("Resources", 0, "Id"),
    ("Resources", 0, "Region"),
    ("Resources", 0, "Type"),
    ("ProductFields",),
    ("ProductFields", "RelatedAWSResources:0/name"),
    ("ProductFields", "RelatedAWSResources:0/type"),
]


def _set(finding: dict, path: tuple, value: Any, *, delete: bool = False) -> None:
    node: Any = finding
    for part in path[:-1]:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(node, dict) or (isinstance(node, list) and isinstance(path[-1], int) and path[-1] < len(node)):
        if delete:
            if isinstance(node, dict):
                node.pop(path[-1], None)
            else:
                node.pop(path[-1])
        else:
            node[path[-1]] = value


def _elsewhere(finding: dict, draw) -> None:
    """The resource moved to another account or Region (in its ARN, or its declared Region)."""
    resources = finding.get("Resources")
    resource = resources[0] if isinstance(resources, list) and resources else None
    if not isinstance(resource, dict) or not isinstance(resource.get("Id"), str):
        return  # an earlier mutation broke the resource already
    rid = resource["Id"]
    other_account = draw(st.sampled_from([OTHER_ACCOUNT, "aws", "000000000000"]))
    other_region = draw(st.sampled_from([OTHER_REGION, "us-gov-west-1", "cn-north-1"]))
    how = draw(st.sampled_from(["arn-account", "arn-region", "resource-region", "finding-region", "account-resource"]))
    parts = rid.split(":")
    if how == "arn-account" and rid.startswith("arn:") and len(parts) > 5:
        parts[4] = other_account
        resource["Id"] = ":".join(parts)
    elif how == "arn-region" and rid.startswith("arn:") and len(parts) > 5:
        parts[3] = other_region
        resource["Id"] = ":".join(parts)
    elif how == "resource-region":
        resource["Region"] = other_region
    elif how == "finding-region":
        finding["Region"] = other_region
    elif how == "account-resource":
        resource["Id"] = f"AWS::::Account:{other_account}"


@st.composite
def cases(draw) -> tuple[str, dict[str, Any], dict[str, Any]]:
    name, payload, finding = draw(st.sampled_from(CASES))
    finding = copy.deepcopy(finding)
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["set", "delete", "elsewhere", "config-rule"]))
        if kind == "elsewhere":
            _elsewhere(finding, draw)
        elif kind == "config-rule":
            fields = finding.setdefault("ProductFields", {})
            if isinstance(fields, dict):
                fields["RelatedAWSResources:0/type"] = "AWS::Config::ConfigRule"
                fields["RelatedAWSResources:0/name"] = draw(_VALUES)
        else:
            _set(finding, draw(st.sampled_from(_PATHS)), draw(_VALUES), delete=kind == "delete")
    return name, payload, finding


def _value_at(finding: Any, field: str) -> Any:
    """The value of a field path as the messages name it: ``Resources[0].Id``, ``ProductFields.<key>``."""
    if field == "Finding":
        return finding
    node: Any = finding
    head, _, rest = field.partition(".")
    for part in [head, *([rest] if head == "ProductFields" and rest else rest.split(".") if rest else [])]:
        index = re.fullmatch(r"(\w+)\[(\d+)\]", part)
        keys = [index[1], int(index[2])] if index else [part]
        for key in keys:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                return None
    return node


@pytest.fixture(scope="module")
def config_api() -> Iterator[None]:
    """ParseInput reads the finding's AWS Config rule: moto answers (no rule exists)."""
    with mock_aws():
        yield


@pytest.mark.no_iam  # the script runs outside any role here; tests/playbooks run it as the member role
@given(case=cases())
def test_parse_input_never_crashes_names_what_it_refuses_and_stays_in_the_findings_account(config_api, case):
    name, payload, finding = case
    event = {**payload, "Finding": finding}
    try:
        out = SCRIPT["parse_event"](event)
    except ValueError as err:
        message = str(err)
        match = FIELD.match(message)
        assert match, f"{name}: refusal names no finding field: {message[:300]}"
        value = _value_at(finding, match[1])
        shown = SCRIPT["_shown"](value)
        assert shown in message or (isinstance(value, str) and value[:60] in message), (name, message[:300])
        message.encode("utf-8")  # the failure message always encodes
        return
    account, region = finding["AwsAccountId"], finding["Region"]
    assert (out["account_id"], out["remediation_account"], out["remediation_region"]) == (account, account, region)
    rid = finding["Resources"][0]["Id"]
    assert out["resource_id"] and out["resource_id"] in rid
    parts = rid.split(":")
    if rid.startswith("arn:") and len(parts) > 5:
        assert parts[4] in ("", account) and parts[3] in ("", region), rid
    assert finding["Resources"][0].get("Region") in (None, "", region)
    json.dumps(out).encode("utf-8")  # SSM can hand the output on


def test_every_runbook_accepts_its_own_finding(config_api):
    """The generator's cases are valid to begin with (else the property would test nothing)."""
    for name, payload, finding in CASES:
        out = SCRIPT["parse_event"]({**payload, "Finding": finding})
        assert out["remediation_account"] == ACCOUNT and out["remediation_region"] == REGION, name
