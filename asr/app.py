"""Compose every deployable template of the solution into one CDK app."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk
import cdk_nag

from asr import solution
from asr.admin.orchestrator_log import OrchestratorLogStack
from asr.admin.org_key import OrganizationKeyStack
from asr.admin.stack import AdminStack
from asr.blueprints.stack import BLUEPRINTS, BlueprintStack
from asr.cdk_common import Distribution
from asr.member.cloudtrail import MemberCloudTrailStack
from asr.member.runbooks import RunbookStack, runbook_parts
from asr.member.stack import MemberStack
from asr.member_roles.stack import MemberRolesStack
from asr.playbooks.data import standards
from asr.playbooks.stacks import PlaybookAdminStack, PlaybookMemberStack
from asr.playbooks.stacks import member_parts as plan_member_parts
from asr.validation import acknowledge_known_warnings

#: Context keys a user may pass with ``cdk synth -c key=value``.
CONTEXT_BUCKET = "solutions_bucket"
CONTEXT_VERSION = "solution_version"

APP_CONTEXT = {
    "aws:cdk:enable-path-metadata": False,
    "aws:cdk:enable-asset-metadata": False,
    "aws:cdk:version-reporting": False,
}


@dataclass
class BuiltApp:
    app: cdk.App
    #: CDK stack name -> published template path (relative to global-s3-assets)
    templates: dict[str, str]


def build_app(*, outdir: str | None = None, dist: Distribution | None = None, nag: bool = True) -> BuiltApp:
    app = cdk.App(outdir=outdir, context=APP_CONTEXT, analytics_reporting=False)
    if dist is None:
        dist = Distribution(
            bucket_base=app.node.try_get_context(CONTEXT_BUCKET) or Distribution.bucket_base,
            version=app.node.try_get_context(CONTEXT_VERSION) or solution.VERSION,
        )
    stds = standards()
    templates: dict[str, str] = {}

    def add(stack: cdk.Stack, template_file: str) -> None:
        templates[stack.stack_name] = template_file

    member_parts: dict[str, int] = {}  # standard key -> number of member templates
    for std in stds:
        add(PlaybookAdminStack(app, dist=dist, standard=std), solution.playbook_admin_template(std.key))
        parts = plan_member_parts(std)
        for part, controls in enumerate(parts):
            member = PlaybookMemberStack(app, dist=dist, standard=std, part=part, controls=controls)
            add(member, solution.playbook_member_template(std.key, part))
        member_parts[std.key] = len(parts)

    add(AdminStack(app, dist=dist, standards=stds), solution.TEMPLATE_FILES[solution.ADMIN_STACK])
    add(OrchestratorLogStack(app, dist=dist), solution.TEMPLATE_FILES[solution.ORCHESTRATOR_LOG_STACK])
    add(OrganizationKeyStack(app, dist=dist), solution.ORG_KEY_TEMPLATE)  # optional, docs/encryption.md
    runbooks = runbook_parts()
    for part, names in enumerate(runbooks):
        add(RunbookStack(app, dist=dist, names=names, part=part), solution.runbook_template(part))
    add(
        MemberStack(app, dist=dist, standards=stds, member_parts=member_parts, runbook_parts=len(runbooks)),
        solution.TEMPLATE_FILES[solution.MEMBER_STACK],
    )
    add(MemberRolesStack(app, dist=dist), solution.TEMPLATE_FILES[solution.MEMBER_ROLES_STACK])
    add(MemberCloudTrailStack(app, dist=dist), solution.TEMPLATE_FILES[solution.MEMBER_CLOUDTRAIL_STACK])
    for blueprint in BLUEPRINTS:
        add(BlueprintStack(app, dist=dist, blueprint=blueprint), f"blueprints/{blueprint.key}BlueprintStack.template")

    acknowledge_known_warnings(app)  # template-validation warnings that are not defects, with reasons
    if nag:
        cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app))
    return BuiltApp(app, templates)
