"""Warnings of the CDK's template validation that point at no defect, acknowledged with their reason.

Every synthesis (``make``, ``cdk synth``, ``python app.py``) runs the CDK's built-in CloudFormation
validation (rules ``CloudFormation-Validate::<id>``, cfn-lint's rule ids) on every template and prints
each warning. A warning that points at a defect is fixed in the stack; the ones below do not, and are
acknowledged on the stacks that have them, each with its reason (the report keeps them as
``suppressedViolations``). ``tests/infrastructure/test_build_output.py`` checks that the build leaves no
warning unacknowledged and that each acknowledgment covers only the parameters named here.
"""

from __future__ import annotations

import re

import aws_cdk as cdk
from constructs import Construct

RULE_PREFIX = "CloudFormation-Validate::"
#: W2001 "Parameter ... is not referenced anywhere in the template".
UNUSED_PARAMETER = "W2001"
#: W2509 "Parameter ... appears to be a password but does not have NoEcho set to true".
PASSWORD_LIKE_PARAMETER = "W2509"

#: Parameters a template declares without using them, and why they stay.
KEPT_UNUSED_PARAMETERS = {
    "SecHubAdminAccount": (
        "The playbook member templates take SecHubAdminAccount, as the reference's do, because the member "
        "stack passes it to each of them; they do not need it."
    ),
}
#: Parameter names the password heuristic matches that hold no secret: the switches of the
#: SecretsManager.N controls (Enable<Control>: Available/NOT Available; <std><ver><Control>AutoTrigger:
#: ENABLED/DISABLED). NoEcho would hide a switch's value in the console for nothing.
SECRET_LOOKING_SWITCH = re.compile(r"^(Enable|[A-Z0-9]+)SecretsManager\d+(AutoTrigger)?$")
SECRET_LOOKING_REASON = (
    "Parameters named after the SecretsManager.N controls are on/off switches of those controls "
    "(Available/NOT Available, ENABLED/DISABLED), not secrets: NoEcho would only hide the setting."
)


def _parameters(stack: cdk.Stack) -> list[str]:
    return [c.node.id for c in stack.node.children if isinstance(c, cdk.CfnParameter)]


def acknowledge_known_warnings(app: Construct) -> None:
    """Acknowledge, on each stack of ``app`` concerned, the warnings listed in this module.

    The validation reports a parameter's warning on its stack (not on the parameter), so the
    acknowledgment is per stack and rule; the test above keeps it from hiding anything else."""
    for stack in (c for c in app.node.children if isinstance(c, cdk.Stack)):
        names = _parameters(stack)
        kept = [n for n in names if n in KEPT_UNUSED_PARAMETERS and _is_playbook_member(stack)]
        for name in kept:
            cdk.Validations.of(stack).acknowledge(
                cdk.Acknowledgment(id=RULE_PREFIX + UNUSED_PARAMETER, reason=KEPT_UNUSED_PARAMETERS[name])
            )
        if any(SECRET_LOOKING_SWITCH.match(n) for n in names):
            cdk.Validations.of(stack).acknowledge(
                cdk.Acknowledgment(id=RULE_PREFIX + PASSWORD_LIKE_PARAMETER, reason=SECRET_LOOKING_REASON)
            )


def _is_playbook_member(stack: cdk.Stack) -> bool:
    from asr.playbooks.stacks import PlaybookMemberStack

    return isinstance(stack, PlaybookMemberStack)
