"""Build the whole distributable once per test worker and hand out its templates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from asr import solution
from asr.build import GLOBAL_ASSETS, BuildReport, build
from asr.cdk_common import Distribution

BUCKET = "mybucket"
VERSION = "v9.8.7"


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> BuildReport:
    out = tmp_path_factory.mktemp("dist")
    return build(Distribution(bucket_base=BUCKET, version=VERSION), out)


@pytest.fixture(scope="session")
def templates(built) -> dict[str, dict]:
    """Published path (``playbooks/SCStack.template`` ...) -> template."""
    return built.templates


@pytest.fixture(scope="session")
def template_bytes(built) -> dict[str, int]:
    return {path: (built.out / GLOBAL_ASSETS / path).stat().st_size for path in built.templates}


def by_stack(templates: dict[str, dict], stack_id: str) -> dict:
    return templates[solution.TEMPLATE_FILES[stack_id]]


def resources_of(template: dict, rtype: str) -> dict[str, dict]:
    return {k: v for k, v in template.get("Resources", {}).items() if v["Type"] == rtype}


def dumps(template: dict) -> str:
    return json.dumps(template, sort_keys=True)


def published(built: BuildReport, path: str) -> Path:
    return built.out / GLOBAL_ASSETS / path
