"""Two builds of the same commit give byte-identical templates and zips."""

from __future__ import annotations

from asr.build import GLOBAL_ASSETS, REGIONAL_ASSETS, build
from asr.cdk_common import Distribution
from tests.infrastructure.conftest import BUCKET, VERSION


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_second_build_is_byte_identical(built, tmp_path):
    again = build(Distribution(bucket_base=BUCKET, version=VERSION), tmp_path)
    for folder in (GLOBAL_ASSETS, REGIONAL_ASSETS):
        first, second = _files(built.out / folder), _files(again.out / folder)
        assert first.keys() == second.keys()
        different = [name for name in first if first[name] != second[name]]
        assert different == [], f"{folder}: {different}"
