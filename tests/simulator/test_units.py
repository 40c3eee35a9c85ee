"""The pure parts: JSONPath selectors, type conversion, the variable resolver."""

from __future__ import annotations

import pytest

from asr.simulator import datatypes, jsonpath, variables
from asr.simulator.errors import ConversionError, DocumentError, UnsupportedFeatureError

DATA = {
    "A": {"B": "b", "List": [{"Id": 1, "Tags": [{"Key": "k1"}]}, {"Id": 2, "Tags": [{"Key": "k2"}]}]},
    "odd key": 5,
    "Flag": False,
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$", DATA),
        ("$.A.B", "b"),
        ("$.A.List[1].Id", 2),
        ("$['odd key']", 5),
        ('$["A"]["B"]', "b"),
        ("$.A.List[*].Id", [1, 2]),
        ("$.A.List.*.Id", [1, 2]),
        ("$..Key", ["k1", "k2"]),
        ("$.A..Id", [1, 2]),
        ("$.Flag", False),
        ("$.Missing[*]", []),
    ],
)
def test_selector_subset(path: str, expected: object) -> None:
    assert jsonpath.select(DATA, path) == expected


@pytest.mark.parametrize("path", ["$.Missing", "$.A.List[5]", "$.A.B.C", "$.A.List.Id"])
def test_single_value_selector_without_match(path: str) -> None:
    with pytest.raises(jsonpath.NoMatch):
        jsonpath.select(DATA, path)


@pytest.mark.parametrize(
    "path", ["$.A.List[?(@.Id==1)]", "$.A.List[0:1]", "$.A.List[-1]", "$.A.List[0,1]", "$.A.length()"]
)
def test_selector_outside_the_subset_is_unsupported(path: str) -> None:
    with pytest.raises(UnsupportedFeatureError, match="^unsupported: JSONPath"):
        jsonpath.select(DATA, path)


def test_selector_must_start_with_dollar() -> None:
    with pytest.raises(DocumentError):
        jsonpath.select(DATA, "A.B")


@pytest.mark.parametrize(
    ("value", "type_name", "expected"),
    [
        ("x", "String", "x"),
        (["x"], "String", "x"),
        (5, "String", "5"),
        ("a", "StringList", ["a"]),
        (["a", 1, True], "StringList", ["a", "1", "true"]),
        ("7", "Integer", 7),
        (["-3"], "Integer", -3),
        ("TRUE", "Boolean", True),
        (["false"], "Boolean", False),
        ('{"a": 1}', "StringMap", {"a": 1}),
        ({"a": 1}, "StringMap", {"a": 1}),
        ('[{"a": 1}]', "MapList", [{"a": 1}]),
        (['{"a": 1}', {"b": 2}], "MapList", [{"a": 1}, {"b": 2}]),
    ],
)
def test_parameter_coercion(value: object, type_name: str, expected: object) -> None:
    assert datatypes.coerce_parameter(value, type_name) == expected


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        ("x", "Integer"),
        (True, "Integer"),
        ("yes", "Boolean"),
        ({"a": 1}, "String"),
        ("[1", "MapList"),
        (["a", "b"], "String"),
        ([{"a": 1}], "StringList"),
        ("x", "StringMap"),
    ],
)
def test_parameter_coercion_errors(value: object, type_name: str) -> None:
    with pytest.raises(ConversionError):
        datatypes.coerce_parameter(value, type_name)


@pytest.mark.parametrize(
    ("value", "type_name", "expected"),
    [
        (12, "String", "12"),
        (True, "String", "true"),
        ("12", "Integer", 12),
        ("true", "Boolean", True),
        (12, "StringList", ["12"]),
        (["only"], "String", "only"),
        (["4"], "Integer", 4),
        ([True], "Boolean", True),
        ({"k": "v"}, "StringMap", {"k": "v"}),
        ([{"k": "v"}], "MapList", [{"k": "v"}]),
    ],
)
def test_documented_output_conversions(value: object, type_name: str, expected: object) -> None:
    assert datatypes.convert_output(value, type_name) == expected


@pytest.mark.parametrize(("value", "type_name"), [(["a", "b"], "String"), ({"k": 1}, "StringList"), ("x", "Integer")])
def test_impossible_output_conversions(value: object, type_name: str) -> None:
    with pytest.raises(ConversionError):
        datatypes.convert_output(value, type_name)


def test_unknown_type_is_unsupported() -> None:
    with pytest.raises(UnsupportedFeatureError, match="^unsupported: data type 'IntegerList'"):
        datatypes.coerce_parameter("1", "IntegerList")


def _lookup(ref: variables.Reference) -> object:
    return {"List": ["a", "b"], "Num": 3, "Flag": True, "Name": "bucket", "S.Out": {"k": "v"}}[ref.name]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{{ List }}", ["a", "b"]),
        ("{{List}}", ["a", "b"]),
        ("{{   Num }}", 3),
        ("{{ Flag }}", True),
        ("{{ S.Out }}", {"k": "v"}),
        ("arn:aws:s3:::{{ Name }}", "arn:aws:s3:::bucket"),
        ("{{Name}}-{{ Num }}-{{ Flag }}", "bucket-3-true"),
        ("items={{ List }}", 'items=["a","b"]'),
        ("no refs", "no refs"),
    ],
)
def test_resolver_keeps_types_of_whole_references(text: str, expected: object) -> None:
    assert variables.resolve(text, _lookup) == expected


def test_resolver_walks_nested_values_and_keys() -> None:
    value = {"{{ Name }}": ["{{ Num }}", {"x": "{{ List }}"}], "n": 1}
    assert variables.resolve(value, _lookup) == {"bucket": [3, {"x": ["a", "b"]}], "n": 1}


@pytest.mark.parametrize(
    ("body", "kind", "name"),
    [
        (" Param ", "parameter", "Param"),
        ("Step.Out", "output", "Step.Out"),
        ("global:REGION", "global", "REGION"),
        ("automation:EXECUTION_ID", "automation", "EXECUTION_ID"),
        ("ssm:/a/b-c", "ssm", "/a/b-c"),
    ],
)
def test_reference_kinds(body: str, kind: str, name: str) -> None:
    ref = variables.parse_reference(body)
    assert (ref.kind, ref.name) == (kind, name)


@pytest.mark.parametrize("body", ["secretsmanager:x", "ssm-secure:/x", "global:AWS_URL_SUFFIX", "automation:FOO"])
def test_unknown_namespaces_are_unsupported(body: str) -> None:
    with pytest.raises(UnsupportedFeatureError, match="^unsupported: "):
        variables.parse_reference(body)


def test_malformed_reference() -> None:
    with pytest.raises(DocumentError):
        variables.parse_reference("a b")
