"""The resource-id regex registry: every pattern against its valid and invalid examples."""

from __future__ import annotations

import re

import pytest

from asr.playbooks import data

REGEXES = data.regexes()


@pytest.mark.parametrize("name", sorted(REGEXES))
def test_valid_examples_yield_the_resource_id(name):
    regex = REGEXES[name]
    for example, value in regex.valid.items():
        assert regex.extract(example) == value, (name, example)


@pytest.mark.parametrize("name", sorted(REGEXES))
def test_invalid_examples_are_rejected(name):
    regex = REGEXES[name]
    for example in regex.invalid:
        assert regex.compiled.match(example) is None, (name, example)


@pytest.mark.parametrize("name", sorted(n for n, r in REGEXES.items() if r.pattern.startswith("^arn:")))
def test_arn_patterns_cover_every_partition(name):
    partitions = {example.split(":")[1] for example in REGEXES[name].valid}
    assert partitions == {"aws", "aws-cn", "aws-us-gov"}, name


@pytest.mark.parametrize("name", sorted(REGEXES))
def test_patterns_are_anchored(name):
    assert REGEXES[name].pattern.startswith("^") and REGEXES[name].pattern.endswith("$")


def test_region_token_accepts_gov_and_china_regions_and_nothing_else():
    region = re.compile("^" + data.REGEX_TOKENS["{R}"] + "$")
    for good in ("us-east-1", "us-gov-west-1", "us-gov-east-1", "cn-north-1", "cn-northwest-1", "ap-southeast-3"):
        assert region.match(good), good
    for bad in ("us-east", "useast1", "US-EAST-1", "us-gov-west-10x", ""):
        assert not region.match(bad), bad


def test_every_regex_is_used_and_every_remediation_param_exists():
    used = {r.regex.name for r in data.remediations().values()}
    assert used == set(REGEXES)
