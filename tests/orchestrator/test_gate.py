"""Issue 14, item 4, through the orchestrator: a finding of one account whose resource ARN
names another account (or Region) passes the orchestrator's gate (resolve: the finding is
well formed), and the control runbook's ParseInput refuses it: FAILED, notified, naming the
field and value, and the resource in the other account is left alone."""

from __future__ import annotations

import pytest

from asr.simulator.findings import custom_action_event
from tests.orchestrator.harness import MEMBER, REGION, Harness
from tests.orchestrator.scenarios import (
    REMEDIATION_ROLE,
    is_public,
    lambda1_finding,
    member_with_lambda1,
    public_function,
)

VICTIM = "333333333333"


@pytest.mark.parametrize("where", ["other-account", "other-region"])
def test_a_resource_outside_the_findings_account_or_region_is_never_remediated(harness: Harness, where):
    harness.install_playbook()
    member_with_lambda1(harness)
    if where == "other-account":
        victim = harness.install_member(VICTIM, roles=(REMEDIATION_ROLE,))
        arn = public_function(victim, "victim-fn")
        assert f":{VICTIM}:" in arn
    else:
        victim = harness.member(MEMBER)
        victim = type(victim)(
            aws_access_key_id=victim.get_credentials().access_key,
            aws_secret_access_key=victim.get_credentials().secret_key,
            aws_session_token=victim.get_credentials().token,
            region_name="eu-west-1",
        )
        arn = public_function(victim, "victim-fn")
        assert ":eu-west-1:" in arn
    finding = lambda1_finding(arn, account=MEMBER)
    finding["Resources"][0].pop("Region", None)  # only the ARN says where the resource is
    harness.import_finding(finding)

    result = harness.run(custom_action_event([finding]))

    assert result.status == "SUCCEEDED"
    notes = harness.notifications()
    assert [n["Remediation_Status"] for n in notes] == ["QUEUED", "FAILED"]
    named = f"names account '{VICTIM}'" if where == "other-account" else "names Region 'eu-west-1'"
    assert "Resources[0].Id" in notes[1]["message"] and named in notes[1]["message"], notes[1]["message"]
    assert is_public(victim, "victim-fn")  # nothing outside the finding's account and Region changed
    assert [s.account for s in harness.router.started] == [MEMBER]
    assert harness.router.started[0].region == REGION
