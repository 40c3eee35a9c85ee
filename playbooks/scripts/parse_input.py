"""ParseInput: the first step of every control runbook (embedded by the generator).

Validates the Security Hub finding the orchestrator hands over, extracts the id of
the resource to remediate with the runbook's resource-id regex, and resolves the
values the remediation needs: Security Hub control parameters (read from the
finding's AWS Config rule, else the runbook's defaults) and, for the CIS
monitoring controls, the metric filter of the finding's control.

Any problem raises ValueError naming the field and the value, so nothing is
remediated for a finding this runbook was not made for.
"""

from __future__ import annotations

import json
import re

PARTITION = r"(aws|aws-cn|aws-us-gov)"
REGION = r"([a-z]{2}(?:-gov)?-[a-z]+-\d)"
# (no "{{" anywhere in this script: SSM would read it as a document variable)
FINDING_ID = re.compile(
    "^arn:" + PARTITION + ":securityhub:" + REGION + r":(\d{12}):"
    r"(?:subscription/([a-z0-9-]+)/v/(\d+\.\d+\.\d+)/([A-Za-z0-9.-]+)|security-control/([A-Za-z0-9.-]+))"
    r"/finding/([A-Za-z0-9-]+)$"
)
PRODUCT_ARN = re.compile("^arn:" + PARTITION + ":securityhub:" + REGION + "::product/aws/securityhub$")
ACCOUNT = re.compile(r"^\d{12}$")
REGION_ONLY = re.compile("^" + REGION + "$")
ACCOUNT_RESOURCE = re.compile(r"^AWS::::Account:(\d{12})$")
CONSOLIDATED = "security-control"


def _require(finding: dict, key: str) -> object:
    value = finding.get(key)
    if value in (None, "", [], {}):
        raise ValueError(f"finding field {key} is missing")
    return value


def parse_finding_id(finding_id: str) -> dict:
    """Standard, version and control of a finding id (standard-subscription or consolidated shape)."""
    match = FINDING_ID.match(finding_id) if isinstance(finding_id, str) else None
    if not match:
        raise ValueError(
            f"finding Id {finding_id!r} is neither a standard-subscription finding id "
            "(arn:<partition>:securityhub:<region>:<account>:"
            "subscription/<standard>/v/<version>/<control>/finding/<id>) "
            "nor a consolidated security-control finding id "
            "(arn:<partition>:securityhub:<region>:<account>:security-control/<control>/finding/<id>)"
        )
    partition, region, account, std, version, std_control, sc_control, _ = match.groups()
    if sc_control:
        return {
            "partition": partition,
            "region": region,
            "account": account,
            "standard": CONSOLIDATED,
            "version": None,
            "control_id": sc_control,
        }
    return {
        "partition": partition,
        "region": region,
        "account": account,
        "standard": std,
        "version": version,
        "control_id": std_control,
    }


def _resource_location(resource: dict, finding: dict) -> tuple[str, str]:
    """Account and Region of the resource: from its ARN when it names them."""
    rid = resource["Id"]
    account, region = finding["AwsAccountId"], resource.get("Region") or finding.get("Region")
    parts = rid.split(":")
    if rid.startswith("arn:") and len(parts) > 5:
        if ACCOUNT.match(parts[4]):
            account = parts[4]
        if REGION_ONLY.match(parts[3]):
            region = parts[3]
    whole = ACCOUNT_RESOURCE.match(rid)
    if whole:
        account = whole.group(1)
    if not region or not REGION_ONLY.match(region):
        raise ValueError(f"Region of resource {rid!r} is unknown or invalid: {region!r}")
    return account, region


def _config_rule_parameters(finding: dict) -> dict:
    """InputParameters of the AWS Config rule behind the finding ({} when it has none)."""
    fields = finding.get("ProductFields") or {}
    if fields.get("RelatedAWSResources:0/type") != "AWS::Config::ConfigRule":
        return {}
    name = fields.get("RelatedAWSResources:0/name")
    if not name:
        return {}
    import boto3
    from botocore.exceptions import ClientError

    try:
        rules = boto3.client("config").describe_config_rules(ConfigRuleNames=[name])["ConfigRules"]
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        if code == "NoSuchConfigRuleException":
            return {}
        raise
    if not rules:
        return {}
    try:
        params = json.loads(rules[0].get("InputParameters") or "{}")
    except json.JSONDecodeError:
        raise ValueError(f"Config rule {name!r} has InputParameters that are not JSON") from None
    return params if isinstance(params, dict) else {}


def convert(value: object, kind: str, name: str) -> object:
    """A control parameter value (Config gives text) as the remediation parameter's type."""
    if kind == "Integer":
        if isinstance(value, bool) or not re.fullmatch(r"\s*-?\d+\s*", str(value)):
            raise ValueError(f"control parameter {name} value {value!r} is not an integer")
        return int(str(value).strip())
    if kind == "Boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in ("true", "false"):
            raise ValueError(f"control parameter {name} value {value!r} is not true or false")
        return text == "true"
    if kind == "StringList":
        if isinstance(value, list):
            return [str(v).strip() for v in value]
        return [v.strip() for v in str(value).split(",") if v.strip()]
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def parse_event(event: dict, _context: object = None) -> dict:
    finding = event.get("Finding")
    if isinstance(finding, str):
        try:
            finding = json.loads(finding)
        except json.JSONDecodeError:
            raise ValueError("Finding is not a JSON object") from None
    if not isinstance(finding, dict):
        raise ValueError(f"Finding must be a mapping, got {type(finding).__name__}")

    finding_id = _require(finding, "Id")
    parsed = parse_finding_id(finding_id)
    account = _require(finding, "AwsAccountId")
    if not isinstance(account, str) or not ACCOUNT.match(account):
        raise ValueError(f"finding AwsAccountId {account!r} is not a 12-digit account id")
    if account != parsed["account"]:
        raise ValueError(f"finding AwsAccountId {account} differs from the account {parsed['account']} of its Id")
    product_arn = _require(finding, "ProductArn")
    if not isinstance(product_arn, str) or not PRODUCT_ARN.match(product_arn):
        raise ValueError(
            f"finding ProductArn {product_arn!r} is not arn:<partition>:securityhub:<region>::product/aws/securityhub"
        )

    runbook_standard = event.get("standard_long_name")
    runbook_version = event.get("standard_version")
    if (
        parsed["standard"] != CONSOLIDATED
        and runbook_standard != CONSOLIDATED
        and (parsed["standard"] != runbook_standard or parsed["version"] != runbook_version)
    ):
        raise ValueError(
            f"finding {finding_id} is from standard {parsed['standard']} {parsed['version']}; "
            f"this runbook remediates {runbook_standard} {runbook_version}"
        )
    control_id = parsed["control_id"]
    expected = list(event.get("expected_control_id") or [])
    if control_id not in expected:
        raise ValueError(
            f"finding control id {control_id!r} is not one this runbook remediates (expected {', '.join(expected)})"
        )

    resources = finding.get("Resources")
    if not isinstance(resources, list) or not resources or not isinstance(resources[0], dict):
        raise ValueError("finding Resources is missing or empty")
    resource = resources[0]
    resource_id = resource.get("Id")
    if not isinstance(resource_id, str) or not resource_id:
        raise ValueError("finding Resources[0].Id is missing")
    pattern = event.get("parse_id_pattern") or ""
    group = int(event.get("resource_index", 0))
    if pattern:
        match = re.match(pattern, resource_id)
        if not match:
            raise ValueError(f"resource id {resource_id!r} does not match {pattern}")
        value = match.group(group)
        matches = [m or "" for m in match.groups()]
    else:
        value, matches = resource_id, []
    if not value:
        raise ValueError(f"no resource id found in {resource_id!r}")
    remediation_account, remediation_region = _resource_location(resource, finding)

    params: dict = {}
    wanted = event.get("control_params") or {}
    if wanted:
        given = _config_rule_parameters(finding)
        for out, spec in wanted.items():
            raw = given.get(spec["name"], spec["default"])
            params[out] = convert(raw, spec.get("type", "String"), spec["name"])

    metric_filter: dict = {}
    filters = event.get("metric_filters") or {}
    if filters:
        metric_filter = filters.get(control_id) or {}
        if not metric_filter:
            raise ValueError(f"no metric filter is defined for control {control_id}")

    return {
        "finding_id": finding_id,
        "product_arn": product_arn,
        "control_id": control_id,
        "standard": parsed["standard"],
        "account_id": account,
        "resource_id": value,
        "matches": matches,
        "remediation_account": remediation_account,
        "remediation_region": remediation_region,
        "affected_object": {"Type": resource.get("Type", ""), "Id": value, "OutputKey": "Remediation.Output"},
        "params": params,
        "metric_filter": metric_filter,
        "testmode": "testmode" in finding,
    }
