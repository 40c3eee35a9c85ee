"""The member stack's RemediationKeyMode and the optional organization key stack, as synthesized."""

from __future__ import annotations

import json
import re

import pytest

from asr import solution
from tests.infrastructure.conftest import by_stack, resources_of

#: What a default deployment of admin + member + member-roles puts in a member account-Region: the member
#: stack and everything it nests, and the member-roles stack.
MEMBER_SIDE = re.compile(
    r"^(automated-security-response-(member|member-roles|member-cloudtrail|remediation-runbooks\d*)\.template"
    r"|playbooks/\w+MemberStack\d*\.template)$"
)


def _condition_holds(template: dict, name: str, params: dict[str, str]) -> bool:
    """Evaluate a condition of ``template`` for the given parameter values (defaults otherwise)."""
    values = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()} | params

    def ev(node):
        if isinstance(node, dict):
            ((fn, arg),) = node.items()
            if fn == "Fn::Equals":
                return ev(arg[0]) == ev(arg[1])
            if fn == "Fn::Or":
                return any(ev(a) for a in arg)
            if fn == "Fn::And":
                return all(ev(a) for a in arg)
            if fn == "Fn::Not":
                return not ev(arg[0])
            if fn == "Condition":
                return ev(template["Conditions"][arg])
            if fn == "Ref":
                return values[arg]
            raise AssertionError(f"cannot evaluate {fn}")
        return node

    return bool(ev(template["Conditions"][name]))


def _keys_created(template: dict, params: dict[str, str]) -> list[str]:
    return [
        k
        for k, v in resources_of(template, "AWS::KMS::Key").items()
        if "Condition" not in v or _condition_holds(template, v["Condition"], params)
    ]


def test_a_default_deployment_creates_no_kms_key_in_member_accounts(templates):
    member_side = {p: t for p, t in templates.items() if MEMBER_SIDE.match(p)}
    assert solution.TEMPLATE_FILES[solution.MEMBER_STACK] in member_side
    assert solution.TEMPLATE_FILES[solution.MEMBER_ROLES_STACK] in member_side
    assert len(member_side) > 10  # the nested playbook and runbook templates are counted too
    created = {p: _keys_created(t, {}) for p, t in member_side.items()}
    assert {p: k for p, k in created.items() if k} == {}
    member = by_stack(templates, solution.MEMBER_STACK)
    assert member["Parameters"]["RemediationKeyMode"]["Default"] == "None"
    # ... and no CMK_REMEDIATION_ARN: remediations read its absence as "no customer managed key".
    param = member["Resources"][solution.KEY_PARAMETER_LOGICAL_ID]
    assert not _condition_holds(member, param["Condition"], {})


@pytest.mark.parametrize(
    ("mode", "keys", "parameter"), [("None", 0, False), ("Existing", 0, True), ("PerStack", 1, True)]
)
def test_each_mode_creates_what_it_says(templates, mode, keys, parameter):
    member = by_stack(templates, solution.MEMBER_STACK)
    params = {"RemediationKeyMode": mode}
    assert len(_keys_created(member, params)) == keys
    param = member["Resources"][solution.KEY_PARAMETER_LOGICAL_ID]
    assert _condition_holds(member, param["Condition"], params) is parameter
    assert param["Properties"]["Name"] == "/Solutions/SO0111/CMK_REMEDIATION_ARN"


def test_the_per_stack_key_keeps_the_reference_logical_ids_and_is_never_deleted(templates):
    member = by_stack(templates, solution.MEMBER_STACK)
    key = member["Resources"]["SHARRRemediationKeyE744743D"]
    assert key["Type"] == "AWS::KMS::Key" and key["Condition"] == solution.KEY_MODE_PER_STACK_CONDITION
    assert key["DeletionPolicy"] == "Retain" and key["UpdateReplacePolicy"] == "Retain"
    assert key["Properties"]["EnableKeyRotation"] is True
    alias = member["Resources"]["SHARRRemediationKeyAlias5531874D"]
    assert alias["Properties"]["AliasName"] == f"alias/{solution.MEMBER_KMS_ALIAS}"
    assert alias["Condition"] == solution.KEY_MODE_PER_STACK_CONDITION
    value = member["Resources"]["SHARRKeyAliasEBF509D8"]["Properties"]["Value"]
    assert value["Fn::If"][1] == {"Fn::GetAtt": ["SHARRRemediationKeyE744743D", "Arn"]}


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("", True),
        ("arn:aws:kms:{region}:111122223333:alias/SO0111-ASR-Organization-Key", True),
        ("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", True),
        ("arn:aws:kms:eu-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab", True),
        ("alias/SO0111-ASR-Organization-Key", False),  # another account's key needs its ARN
        ("arn:aws:kms:eu-west-1:111122223333:key/not-a-key", False),
        ("arn:aws:kms:{Region}:111122223333:alias/x", False),
    ],
)
def test_key_arn_parameter_pattern(templates, value, ok):
    pattern = by_stack(templates, solution.MEMBER_STACK)["Parameters"]["RemediationKeyArn"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is ok


def test_existing_mode_needs_a_key_arn_and_only_it_takes_one(templates):
    rules = by_stack(templates, solution.MEMBER_STACK)["Rules"]
    needs = rules["ExistingKeyNeedsArn"]
    assert needs["RuleCondition"] == {"Fn::Equals": [{"Ref": "RemediationKeyMode"}, "Existing"]}
    assert needs["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "RemediationKeyArn"}, ""]}]}
    assert "RemediationKeyArn" in needs["Assertions"][0]["AssertDescription"]
    only = rules["KeyArnOnlyWithExisting"]
    assert only["Assertions"][0]["Assert"] == {"Fn::Equals": [{"Ref": "RemediationKeyArn"}, ""]}


def test_organization_key_stack(templates):
    template = templates[solution.ORG_KEY_TEMPLATE]
    keys = resources_of(template, "AWS::KMS::Key")
    assert len(keys) == 1
    (key,) = keys.values()
    assert key["DeletionPolicy"] == "Retain" and key["Properties"]["EnableKeyRotation"] is True
    statements = {s["Sid"]: s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    org = {"Ref": "OrganizationId"}
    # Everything but the owner's administration is limited to the organization.
    for sid, statement in statements.items():
        if sid == "KeyAdministrationByThisAccount":
            assert statement["Principal"]["AWS"] != "*"
            continue
        conditions = statement["Condition"]["StringEquals"]
        assert conditions.get("aws:PrincipalOrgID", conditions.get("aws:SourceOrgID")) == org, sid
    trail = statements["CloudTrailEncryptsTrailsOfTheOrganization"]
    assert "kms:EncryptionContext:aws:cloudtrail:arn" in trail["Condition"]["StringLike"]
    via = statements["OrganizationThroughSnsAndSqs"]["Condition"]["StringEquals"]["kms:ViaService"]
    assert len(via) == 2 and all("Fn::Join" in v for v in via)
    logs = statements["CloudWatchLogsEncryptsFlowLogGroups"]["Condition"]["ArnLike"]
    assert "VPCFlowLogs/*" in json.dumps(logs)
    aliases = resources_of(template, "AWS::KMS::Alias")
    assert [a["Properties"]["AliasName"] for a in aliases.values()] == [f"alias/{solution.ORG_KMS_ALIAS}"]
    assert "{region}" in json.dumps(template["Outputs"]["MemberRemediationKeyArn"])
