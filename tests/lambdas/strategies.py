"""Hypothesis strategies for hostile findings and values (tests/lambdas/test_properties.py).

A hostile finding is a valid one (``make_finding``, as Security Hub sends it) with one
mutation: a key deleted, or a value replaced by another type, a huge or odd string (lone
surrogates, Unicode digits, control characters, a trailing newline), a corrupted ARN or
account, a Region of another format; or a valid finding grown to a legal large size.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from asr.simulator.findings import make_finding

MEMBER = "222222222222"
REGION = "us-east-1"
FN = f"arn:aws:lambda:{REGION}:{MEMBER}:function:f"
_CONTROL = f"arn:aws:securityhub:{REGION}:{MEMBER}:control"
_AFSBP = "aws-foundational-security-best-practices"

#: Paths a mutation may hit (dots separate keys; a number indexes a list).
PATHS = (
    "Id",
    "ProductArn",
    "AwsAccountId",
    "Region",
    "Resources",
    "Resources.0",
    "Resources.0.Id",
    "Resources.0.Type",
    "Resources.0.Region",
    "Title",
    "Description",
    "GeneratorId",
    "Types",
    "ProductFields",
    "ProductFields.StandardsControlArn",
    "ProductFields.aws/securityhub/ProductName",
    "ProductFields.attributes/RULE_TYPE",
    "Compliance",
    "Compliance.SecurityControlId",
    "Workflow",
    "Workflow.Status",
    "WorkflowState",
    "Severity",
    "Severity.Label",
)

#: Characters the default text strategy leaves out: surrogates (json.loads makes them from
#: "\ud800"), controls, Unicode digits and letters that a non-ASCII pattern would accept.
_ODD_CHARS = st.sampled_from(["\ud800", "\udfff", "\x00", "\n", "\u0661", "\u0663", "\uff11", "K", "\u2028", "😀", "é"])
_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=40) | st.text(_ODD_CHARS, max_size=20)


@st.composite
def _huge(draw: st.DrawFn) -> str:
    unit = draw(st.text(alphabet=st.characters(exclude_categories=()), min_size=1, max_size=3) | _ODD_CHARS)
    size = draw(st.sampled_from([300, 70_000, 300_000, 2_700_000]))
    return (unit * (size // len(unit) + 1))[:size]


def _corrupted() -> st.SearchStrategy[str]:
    return st.sampled_from(
        [
            "\u0661" * 12,  # Arabic-Indic digits
            "\uff11" * 12,  # fullwidth digits
            "111111111111\n",
            MEMBER + "\n",
            "us-east-\u0661",
            "us-east-1\n",
            "Lambda.1\n",
            "Lambda.\u0661",
            f"arn:aws:securityhub:{REGION}::product/aws/securityhub\n",
            f"{_CONTROL}/{_AFSBP}/v/1.0.0/Lambda.1\n",
            f"{_CONTROL}/{_AFSBP}/v/\u0661.0.0/Lambda.1",
            f"{_CONTROL}/{'a' * 5000}/v/1.0.0/Lambda.1",
            f"{_CONTROL}/{_AFSBP}/v/1.0.0/{'L' * 5000}",
            "L" * 5000,
            "eu-west-3",  # another valid Region
            "us-gov-west-1",
            "cn-north-1",
            "arn:aws:lambda:eu-west-1:333333333333:function:other",  # a resource of another account
            "Config",
            "Health",
            "GuardDuty",
            "Inspector",
            "NOTIFIED",
            "",
            " ",
        ]
    )


HOSTILE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    _TEXT,
    _corrupted(),
    _huge(),
    st.lists(_TEXT | st.integers(), max_size=3),
    st.dictionaries(_TEXT, _TEXT | st.integers(), max_size=3),
)


@dataclass
class Mutation:
    path: str
    deleted: bool
    value: Any = None

    def __repr__(self) -> str:
        shown = repr(self.value)
        return f"Mutation({self.path}, {'deleted' if self.deleted else shown[:80]})"


def base_finding(product: str = "Security Hub") -> dict[str, Any]:
    raw = make_finding(
        "Lambda.1",
        FN,
        resource_type="AwsLambdaFunction",
        standard_name="security-control",
        standard_version="2.0.0",
        account_id=MEMBER,
    )
    if product != "Security Hub":
        raw["ProductFields"]["aws/securityhub/ProductName"] = product
    return raw


def apply(raw: dict[str, Any], mutation: Mutation) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    parts = mutation.path.split(".")
    node: Any = out
    for part in parts[:-1]:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return out  # the path does not exist in this finding
    last = parts[-1]
    if isinstance(node, list) and last.isdigit() and int(last) < len(node):
        if mutation.deleted:
            del node[int(last)]
        else:
            node[int(last)] = mutation.value
    elif isinstance(node, dict):
        if mutation.deleted:
            node.pop(last, None)
        else:
            node[last] = mutation.value
    return out


mutations = st.builds(Mutation, st.sampled_from(PATHS), st.booleans(), HOSTILE)


@st.composite
def hostile_findings(draw: st.DrawFn) -> tuple[dict[str, Any], Mutation | None]:
    """A finding with one mutation (or none), of any product; sometimes grown to a legal large size."""
    product = draw(st.sampled_from(["Security Hub", "Security Hub", "Security Hub", "Config", "GuardDuty"]))
    raw = base_finding(product)
    if draw(st.integers(0, 9)) == 0:  # a legal large finding: up to Security Hub's 240 KB
        raw["Resources"][0]["Details"] = {"Other": {"Blob": "x" * draw(st.sampled_from([1_000, 100_000, 230_000]))}}
    mutation = draw(st.none() | mutations)
    return (apply(raw, mutation) if mutation else raw), mutation
