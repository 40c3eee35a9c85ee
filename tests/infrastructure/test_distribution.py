"""StackSets-ready distribution: no bootstrap, nested templates and Lambda code from the solution buckets."""

from __future__ import annotations

import itertools
import re
import zipfile

from asr import solution
from asr.build import REGIONAL_ASSETS, lambda_packages
from tests.infrastructure.conftest import BUCKET, VERSION, by_stack, dumps, resources_of

EXPECTED_TEMPLATES = {
    "automated-security-response-admin.template",
    "automated-security-response-member.template",
    "automated-security-response-member-roles.template",
    "automated-security-response-remediation-runbooks.template",
    "automated-security-response-orchestrator-log.template",
    "automated-security-response-member-cloudtrail.template",
    "blueprints/JiraBlueprintStack.template",
    "blueprints/ServiceNowBlueprintStack.template",
    *(f"playbooks/{k}Stack.template" for k in ("SC", "AFSBP", "CIS120", "CIS140", "CIS300", "NIST80053", "PCI321")),
    *(
        f"playbooks/{k}MemberStack.template"
        for k in ("SC", "AFSBP", "CIS120", "CIS140", "CIS300", "NIST80053", "PCI321")
    ),
}
#: Templates of ours the reference does not have (optional stacks).
OUR_TEMPLATES = {"automated-security-response-org-key.template"}


def test_every_reference_template_is_built(templates):
    assert set(templates) >= EXPECTED_TEMPLATES
    extra = set(templates) - EXPECTED_TEMPLATES - OUR_TEMPLATES
    # Only overflow parts may be added to the reference's list.
    assert all(re.search(r"(MemberStack|remediation-runbooks)\d+\.template$", p) for p in extra), extra


def test_no_bootstrap_dependency(templates):
    for path, template in templates.items():
        text = dumps(template)
        assert "BootstrapVersion" not in text, path
        assert "cdk-hnb659fds" not in text, path
        assert "CheckBootstrapVersion" not in text, path
        assert not any(k.startswith("AssetParameters") for k in template.get("Parameters", {})), path


def test_source_code_mapping(templates):
    users = [p for p, t in templates.items() if '"Fn::FindInMap": ["SourceCode"' in dumps(t.get("Resources", {}))]
    assert {
        solution.TEMPLATE_FILES[solution.ADMIN_STACK],
        solution.TEMPLATE_FILES[solution.MEMBER_STACK],
        solution.TEMPLATE_FILES[solution.MEMBER_CLOUDTRAIL_STACK],
    } <= set(users)
    for path in users:
        general = templates[path]["Mappings"]["SourceCode"]["General"]
        assert general == {"S3Bucket": BUCKET, "KeyPrefix": f"{solution.TRADEMARKED_NAME}/{VERSION}"}, path


def _join(value):
    """Render a Fn::Join of strings/Refs/FindInMaps for comparison."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(_join(p) for p in parts)
    if "Ref" in value:
        return "${" + value["Ref"] + "}"
    if "Fn::FindInMap" in value:
        return "${" + ".".join(value["Fn::FindInMap"]) + "}"
    raise AssertionError(value)


def test_nested_stacks_point_at_published_templates(templates):
    nested = {}
    for path, template in templates.items():
        for rid, res in resources_of(template, "AWS::CloudFormation::Stack").items():
            nested[(path, rid)] = _join(res["Properties"]["TemplateURL"])
    assert nested, "admin and member stacks nest templates"
    prefix = "https://${SourceCode.General.S3Bucket}-reference.s3.${AWS::URLSuffix}/${SourceCode.General.KeyPrefix}/"
    for (path, rid), url in nested.items():
        assert url.startswith(prefix), (path, rid, url)
        assert url.removeprefix(prefix) in templates, f"{path}/{rid} nests {url} which is not built"


def test_admin_and_member_nest_what_the_reference_nests(templates):
    admin = set(resources_of(by_stack(templates, solution.ADMIN_STACK), "AWS::CloudFormation::Stack"))
    # nested stacks keep the reference's logical ids (in-place updates, docs/upgrade.md)
    assert admin == {
        "orchestratorNestedLogStackNestedStackNestedLogStackNestedStackResourceE4E042A6",
        *(f"PlaybookAdminStack{k}" for k in ("SC", "AFSBP", "CIS120", "CIS140", "CIS300", "NIST80053", "PCI321")),
    }
    member = by_stack(templates, solution.MEMBER_STACK)
    stacks = resources_of(member, "AWS::CloudFormation::Stack")
    cloudtrail = "MemberCloudTrailNestedStackMemberCloudTrailNestedStackResource2ED3A9F6"
    assert {"RunbookStackNoRoles", cloudtrail, "PlaybookMemberStackSC"} <= set(stacks)
    assert stacks[cloudtrail]["Condition"] == "CloudTrailCondition"
    assert stacks["PlaybookMemberStackSC"]["Condition"] == "loadSCCond"
    assert stacks["PlaybookMemberStackSC"]["Properties"]["Parameters"] == {
        "SecHubAdminAccount": {"Ref": "SecHubAdminAccount"},
        "Namespace": {"Ref": "Namespace"},
    }


def test_member_nested_stacks_are_created_one_after_another(templates):
    """Never two nested stacks creating SSM documents at once (CreateDocument throttling)."""
    member = by_stack(templates, solution.MEMBER_STACK)
    resources = member["Resources"]
    stacks = [k for k, v in resources.items() if v["Type"] == "AWS::CloudFormation::Stack"]

    def ancestors(rid, seen=None):
        seen = set() if seen is None else seen
        deps = resources[rid].get("DependsOn", [])
        for dep in [deps] if isinstance(deps, str) else deps:
            if dep not in seen:
                seen.add(dep)
                ancestors(dep, seen)
        for ref in re.findall(r'"Ref": "(\w+)"', dumps(resources[rid].get("Metadata", {}))):
            if ref in resources and ref not in seen:
                seen.add(ref)
                ancestors(ref, seen)
        return seen

    order = sorted(stacks, key=lambda s: len(ancestors(s)))
    for earlier, later in itertools.pairwise(order):
        assert earlier in ancestors(later), f"{later} does not wait for {earlier}"


def test_lambda_code_comes_from_the_regional_bucket(built, templates):
    zips = {z.name for z in built.zips}
    functions = [(p, f) for p, t in templates.items() for f in resources_of(t, "AWS::Lambda::Function").values()]
    assert functions
    for path, function in functions:
        code = function["Properties"]["Code"]
        assert _join(code["S3Bucket"]) == "${SourceCode.General.S3Bucket}-${AWS::Region}", path
        key = _join(code["S3Key"])
        assert key.startswith("${SourceCode.General.KeyPrefix}/lambda/"), key
        assert key.rsplit("/", 1)[1] in zips, f"{path} needs {key} which the build does not produce"


def test_lambda_zips_hold_their_handler_and_the_naming_module(built, templates):
    assert {p.zip_name for p in lambda_packages()} == {z.name for z in built.zips}
    contents = {}
    for z in built.zips:
        assert z.parent == built.out / REGIONAL_ASSETS / "lambda"
        names = zipfile.ZipFile(z).namelist()
        assert "asr/solution.py" in names and "asr/__init__.py" in names
        assert not any("__pycache__" in n or n.startswith("tests/") for n in names)
        contents[z.name] = names
    handlers = 0
    for template in templates.values():
        for res in template["Resources"].values():
            handler = res.get("Properties", {}).get("Handler", "")
            if res["Type"] != "AWS::Lambda::Function" or not handler.startswith("lambdas."):
                continue
            module = handler.rsplit(".", 1)[0].replace(".", "/") + ".py"
            zip_name = handler.split(".")[1] + ".zip"
            assert module in contents[zip_name], f"{handler}: {module} is not in {zip_name}"
            handlers += 1
    assert handlers >= len(built.zips)


def test_descriptions_and_tags(templates):
    assert by_stack(templates, solution.ADMIN_STACK)["Description"] == (
        f"(SO0111) Automated Security Response on AWS Administrator Stack, {VERSION}"
    )
    assert by_stack(templates, solution.MEMBER_STACK)["Description"] == (
        f"(SO0111M) Automated Security Response on AWS Member Account Stack, {VERSION}"
    )
    assert by_stack(templates, solution.MEMBER_ROLES_STACK)["Description"].startswith("(SO0111R) ")
    tagged = 0
    for path, template in templates.items():
        assert template["Description"].endswith(VERSION), path
        for rid, res in template["Resources"].items():
            tags = res.get("Properties", {}).get("Tags")
            if isinstance(tags, list):
                tagged += 1
                keys = {t["Key"]: t["Value"] for t in tags}
                assert keys.get("Solutions:SolutionID") == "SO0111", (path, rid)
                assert keys.get("Solutions:SolutionName") == "Automated Security Response on AWS"
                assert keys.get("Solutions:SolutionVersion") == VERSION
    assert tagged > 10
