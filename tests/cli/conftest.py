"""The built distribution for the deploy commands (asr cfct-manifest, asr preflight): one build per session."""

from __future__ import annotations

from tests.infrastructure.conftest import built, templates  # noqa: F401  (session fixtures: the real build)
