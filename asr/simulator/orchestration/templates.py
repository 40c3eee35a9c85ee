"""Our synthesized templates, for the emulation: synthesized in-process, cached by source content.

``templates(names)`` returns the templates the build publishes under those names
(``automated-security-response-admin.template``, ``playbooks/SCMemberStack.template`` ...),
synthesized from this checkout exactly as ``make`` synthesizes them (the same stack classes,
without cdk-nag, which changes no resource). Synthesis takes seconds per stack, so each
template is kept in a cache folder keyed by a hash of everything it is built from (the
sources under asr/, lambdas/, playbooks/, remediation_runbooks/ and the aws-cdk-lib
version): any change to them gives a new key, so a cached template is never stale.
The folder is ``$ASR_CACHE_DIR/templates`` (default ``~/.cache/asr/templates``);
``ASR_CACHE_DIR=off`` (or ``cache=False``) synthesizes every time.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from asr import solution

ROOT = Path(__file__).resolve().parents[3]
SOURCE_DIRS = ("asr", "lambdas", "playbooks", "remediation_runbooks")
SOURCE_SUFFIXES = {".py", ".yaml", ".yml", ".json", ".txt", ".md"}

ADMIN = solution.TEMPLATE_FILES[solution.ADMIN_STACK]
MEMBER = solution.TEMPLATE_FILES[solution.MEMBER_STACK]
MEMBER_ROLES = solution.TEMPLATE_FILES[solution.MEMBER_ROLES_STACK]


class TemplateNotFound(KeyError):
    """No stack of the build publishes a template under that name."""


@functools.cache
def source_hash() -> str:
    """Hash of every file the templates are built from (and the CDK library's version)."""
    digest = hashlib.sha256()
    for folder in SOURCE_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in SOURCE_SUFFIXES or "__pycache__" in path.parts or not path.is_file():
                continue
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    for package in ("aws-cdk-lib", "constructs"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            digest.update(f"{package}=={metadata.version(package)}".encode())
    return digest.hexdigest()[:20]


def cache_dir() -> Path | None:
    setting = os.environ.get("ASR_CACHE_DIR", "")
    if setting.lower() == "off":
        return None
    base = Path(setting) if setting else Path.home() / ".cache" / "asr"
    return base / "templates" / source_hash()


@contextlib.contextmanager
def cdk_quiet() -> Iterator[None]:
    """What the CDK and its Node.js process print (a Node version banner, validation reports) is kept
    off the command's stdout and stderr, and shown on stderr only if the block fails."""
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            yield
    except BaseException:
        sys.stderr.write(buffer.getvalue())
        raise


@functools.cache
def _builders() -> dict[str, Callable[[Any, Any], Any]]:
    """Published template name -> how to add its stack to a CDK app (as asr.app.build_app does)."""
    from asr.admin.stack import AdminStack
    from asr.member.runbooks import RunbookStack, runbook_parts
    from asr.member.stack import MemberStack
    from asr.member_roles.stack import MemberRolesStack
    from asr.playbooks.data import standards
    from asr.playbooks.stacks import PlaybookAdminStack, PlaybookMemberStack, member_parts

    stds = standards()
    runbooks = runbook_parts()
    parts = {std.key: member_parts(std) for std in stds}
    builders: dict[str, Callable[[Any, Any], Any]] = {
        ADMIN: lambda app, dist: AdminStack(app, dist=dist, standards=stds),
        MEMBER_ROLES: lambda app, dist: MemberRolesStack(app, dist=dist),
        MEMBER: lambda app, dist: MemberStack(
            app,
            dist=dist,
            standards=stds,
            member_parts={k: len(v) for k, v in parts.items()},
            runbook_parts=len(runbooks),
        ),
    }
    for part, names in enumerate(runbooks):
        builders[solution.runbook_template(part)] = lambda app, dist, names=names, part=part: RunbookStack(
            app, dist=dist, names=names, part=part
        )
    for std in stds:
        builders[solution.playbook_admin_template(std.key)] = lambda app, dist, std=std: PlaybookAdminStack(
            app, dist=dist, standard=std
        )
        for part, controls in enumerate(parts[std.key]):
            builders[solution.playbook_member_template(std.key, part)] = (
                lambda app, dist, std=std, part=part, controls=controls: PlaybookMemberStack(
                    app, dist=dist, standard=std, part=part, controls=controls
                )
            )
    return builders


@functools.cache
def names() -> tuple[str, ...]:
    """Every template name ``templates()`` can give."""
    return tuple(_builders())


_MEMORY: dict[tuple[str, str], dict[str, Any]] = {}


def templates(
    wanted: Iterable[str], *, cache: bool = True, progress: Callable[[str], None] | None = None
) -> dict[str, dict[str, Any]]:
    """The synthesized templates named ``wanted`` (published names), from the caches or synthesized."""
    wanted = list(dict.fromkeys(wanted))
    with cdk_quiet():
        builders = _builders()
    unknown = [n for n in wanted if n not in builders]
    if unknown:
        raise TemplateNotFound(f"no stack publishes {', '.join(unknown)} (known: {', '.join(sorted(builders))})")
    key = source_hash()
    folder = cache_dir() if cache else None
    found: dict[str, dict[str, Any]] = {}
    for name in wanted:
        if cache and (key, name) in _MEMORY:
            found[name] = _MEMORY[(key, name)]
        elif folder is not None and (folder / _file(name)).is_file():
            found[name] = json.loads((folder / _file(name)).read_text(encoding="utf-8"))
    missing = [n for n in wanted if n not in found]
    if missing:
        if progress is not None:
            progress(f"synthesizing {len(missing)} template(s): {', '.join(missing)}")
        with cdk_quiet():
            found.update(_synthesize(missing, builders))
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            for name in missing:
                # write then rename: a reader never sees half a template
                tmp = folder / f".{_file(name)}.{os.getpid()}.tmp"
                tmp.write_text(json.dumps(found[name]), encoding="utf-8")
                tmp.replace(folder / _file(name))
    if cache:
        for name in wanted:
            _MEMORY[(key, name)] = found[name]
    return {name: found[name] for name in wanted}


def _file(name: str) -> str:
    return name.replace("/", "__") + ".json"


def _synthesize(wanted: list[str], builders: dict[str, Callable[[Any, Any], Any]]) -> dict[str, dict[str, Any]]:
    import aws_cdk as cdk

    from asr.app import APP_CONTEXT
    from asr.cdk_common import Distribution
    from asr.validation import acknowledge_known_warnings

    out = Path(tempfile.mkdtemp(prefix="asr-simulate-"))
    app = cdk.App(outdir=str(out), context=APP_CONTEXT, analytics_reporting=False)
    dist = Distribution()
    stacks = {name: builders[name](app, dist) for name in wanted}
    acknowledge_known_warnings(app)
    app.synth()
    return {
        name: json.loads((out / f"{stack.artifact_id}.template.json").read_text(encoding="utf-8"))
        for name, stack in stacks.items()
    }


def custom_resource_results(template: dict[str, Any]) -> dict[str, dict[str, str]]:
    """What the template's custom resources (``Custom::...``) answer in the emulation, which runs none:
    a fixed ``emulated-<attribute>`` value for every attribute the template reads with Fn::GetAtt, so
    the rest of the template resolves (as the Resolver's ``physical``)."""
    custom = {k for k, v in template.get("Resources", {}).items() if str(v.get("Type", "")).startswith("Custom::")}
    results: dict[str, dict[str, str]] = {k: {} for k in custom}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Fn::GetAtt":
                    logical, attribute = value.split(".", 1) if isinstance(value, str) else value
                    if logical in custom and isinstance(attribute, str):
                        results[logical][attribute] = f"emulated-{attribute}"
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(template.get("Resources", {}))
    return {k: v for k, v in results.items() if v}
