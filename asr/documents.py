"""Render remediation runbooks and read their IAM declarations.

Plain Python with no CDK import: the remediation-runbooks stack, the member-roles
stack, the local runner and the tests all read the runbooks through this module.

Layout of one remediation ``<Name>``:

* ``remediation_runbooks/<Name>.yaml`` -- the SSM Automation document ``ASR-<Name>``.
  An ``aws:executeScript`` step says ``Script: '%%SCRIPT=<file>.py%%'``; rendering
  replaces it with the text of ``remediation_runbooks/scripts/<file>.py``.
  ``%%ROLE=<Name>%%`` anywhere in a string becomes ``<Name>-<namespace>``.
* ``remediation_runbooks/scripts/<file>.py`` -- plain, importable Python.
  SSM runs the script alone, so code shared by several scripts is inlined: a top-level
  ``from remediation_runbooks.scripts.<shared> import A, B  # %%INLINE%%`` (tests import it as
  usual) is replaced, in the rendered text, by the code of ``scripts/<shared>.py`` below its
  imports (its docstring and imports are dropped; the imports the script lacks are written
  just before that code). See :func:`inline_script` for the rules it checks.
* ``remediation_runbooks/permissions/<Name>.yaml`` -- the IAM statements of role
  ``SO0111-<Name>-<namespace>`` and any service role the remediation hands to AWS.
"""

from __future__ import annotations

import ast
import functools
import io
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from asr import solution

REPO_ROOT = Path(__file__).resolve().parent.parent
RUNBOOK_DIR = REPO_ROOT / "remediation_runbooks"
SCRIPT_DIR = RUNBOOK_DIR / "scripts"
PERMISSIONS_DIR = RUNBOOK_DIR / "permissions"

_SCRIPT = re.compile(r"^%%SCRIPT=([A-Za-z0-9_]+\.py)%%$")
_ROLE = re.compile(r"%%ROLE=([A-Za-z0-9+=,.@_-]+)%%")


class DocumentError(ValueError):
    """A runbook or permission file is malformed."""


def remediation_names() -> list[str]:
    """Remediation names (``EnableKeyRotation`` ...) of every runbook in the repo."""
    return sorted(p.stem for p in RUNBOOK_DIR.glob("*.yaml"))


def remediation_runbook_names() -> list[str]:
    """SSM document names (``ASR-EnableKeyRotation`` ...) of every runbook."""
    return [solution.remediation_document(n) for n in remediation_names()]


@functools.cache
def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DocumentError(f"{path.relative_to(REPO_ROOT)}: file not found") from None
    except yaml.YAMLError as err:
        raise DocumentError(f"{path.relative_to(REPO_ROOT)}: invalid YAML: {err}") from None


def _strip_prefix(name: str) -> str:
    return name.removeprefix(solution.DOCUMENT_PREFIX)


def runbook_source(name: str) -> dict[str, Any]:
    """The document as written in the repo, placeholders untouched."""
    doc = _load_yaml(RUNBOOK_DIR / f"{_strip_prefix(name)}.yaml")
    if not isinstance(doc, dict):
        raise DocumentError(f"runbook {name}: top level must be a mapping")
    return doc


@functools.cache
def script_text(file_name: str) -> str:
    """The text SSM runs for ``scripts/<file_name>``: the file with its ``# %%INLINE%%`` imports inlined."""
    path = SCRIPT_DIR / file_name
    if not path.is_file():
        raise DocumentError(f"script {file_name}: not found in {SCRIPT_DIR.relative_to(REPO_ROOT)}")
    return inline_script(path)


# --- inlining shared script code ------------------------------------------------------

INLINE_MARK = "# %%INLINE%%"
INLINE_PACKAGE = "remediation_runbooks.scripts"
_MARK = re.compile(r"# %%INLINE%%(?:\s+#.*)?")  # the marker, maybe followed by a second comment such as a noqa


def _where(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return str(path)


def _parse(source: str, where: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SyntaxError as err:
        raise DocumentError(f"{where}:{err.lineno}: invalid Python: {err.msg}") from None


def _comment_lines(source: str, where: str) -> dict[int, str]:
    """Line number -> text of each comment that mentions %%INLINE%% (strings do not count)."""
    found = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT and "%%INLINE%%" in tok.string:
                found[tok.start[0]] = tok.string.strip()
    except (tokenize.TokenError, SyntaxError) as err:
        raise DocumentError(f"{where}: cannot tokenize: {err}") from None
    return found


def _import_bindings(node: ast.Import | ast.ImportFrom) -> dict[str, str]:
    """Name -> the one-name import statement that binds it (``from a import b as c`` binds c)."""
    out = {}
    for alias in node.names:
        if isinstance(node, ast.Import):
            name = alias.asname or alias.name.partition(".")[0]
            out[name] = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
        else:
            name = alias.asname or alias.name
            stmt = f"from {'.' * node.level}{node.module or ''} import {alias.name}"
            out[name] = stmt + (f" as {alias.asname}" if alias.asname else "")
    return out


def _defined_names(body: list[ast.stmt]) -> dict[str, tuple[int, str | None]]:
    """Top-level names a module body binds: name -> (line, the import statement when an import binds it)."""
    names: dict[str, tuple[int, str | None]] = {}

    def targets(node: ast.AST, line: int) -> None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                names.setdefault(sub.id, (line, None))

    for stmt in body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.setdefault(stmt.name, (stmt.lineno, None))
        elif isinstance(stmt, ast.Import | ast.ImportFrom):
            for name, binding in _import_bindings(stmt).items():
                names.setdefault(name, (stmt.lineno, binding))
        elif isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
            for target in stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]:
                targets(target, stmt.lineno)
        elif isinstance(stmt, ast.If | ast.Try | ast.With | ast.For | ast.While):
            if isinstance(stmt, ast.For):
                targets(stmt.target, stmt.lineno)
            if isinstance(stmt, ast.With):
                for item in stmt.items:
                    if item.optional_vars is not None:
                        targets(item.optional_vars, stmt.lineno)
            nested = [*stmt.body, *getattr(stmt, "orelse", []), *getattr(stmt, "finalbody", [])]
            for handler in getattr(stmt, "handlers", []):
                if handler.name:
                    names.setdefault(handler.name, (handler.lineno, None))
                nested += handler.body
            for name, found in _defined_names(nested).items():
                names.setdefault(name, found)
    return names


def _is_package_import(node: ast.AST) -> bool:
    if isinstance(node, ast.ImportFrom):
        module = node.module or ""
        return node.level == 0 and (module == INLINE_PACKAGE or module.startswith(INLINE_PACKAGE + "."))
    if isinstance(node, ast.Import):
        return any(a.name == INLINE_PACKAGE or a.name.startswith(INLINE_PACKAGE + ".") for a in node.names)
    return False


@dataclass
class _Shared:
    """A module to inline: its code below the imports, what that code defines, the imports it needs."""

    where: str
    code: str
    defines: dict[str, int]
    imports: list[tuple[str, str, int]]  # (name, import statement, line)


def _shared_module(path: Path, where: str) -> _Shared:
    source = path.read_text(encoding="utf-8")
    tree = _parse(source, where)
    marks = _comment_lines(source, where)
    if marks:
        line = min(marks)
        raise DocumentError(f"{where}:{line}: an inlined module cannot inline another ({marks[line]!r})")
    body = list(tree.body)
    header_end = 0  # last line of the docstring and the imports
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        header_end = body.pop(0).end_lineno or 0
    imports: list[tuple[str, str, int]] = []
    while body and isinstance(body[0], ast.Import | ast.ImportFrom):
        node = body.pop(0)
        if _is_package_import(node):
            raise DocumentError(f"{where}:{node.lineno}: an inlined module cannot import {INLINE_PACKAGE}")
        imports += [(name, stmt, node.lineno) for name, stmt in _import_bindings(node).items()]
        header_end = node.end_lineno or node.lineno
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise DocumentError(
                f"{where}:{node.lineno}: import after code: an inlined module keeps all its imports at the top"
            )
    if not body:
        raise DocumentError(f"{where}: no code below the imports to inline")
    code = "".join(source.splitlines(keepends=True)[header_end:]).strip("\n")
    defines = {name: line for name, (line, _) in _defined_names(body).items()}
    return _Shared(where, code, defines, imports)


def inline_script(path: Path, directory: Path | None = None) -> str:
    """``path``'s text with each ``from remediation_runbooks.scripts.<shared> import A, B  # %%INLINE%%``
    replaced by ``<directory>/<shared>.py`` (default: the directory of ``path``) below its imports.

    Rules, each broken one a :class:`DocumentError` naming the file and line:

    * the marker is the comment ``# %%INLINE%%`` on a line of a top-level ``from`` import of
      ``remediation_runbooks.scripts.<shared>``, with plain names (no ``as``, no ``*``) that
      ``<shared>.py`` defines; any other import of ``remediation_runbooks.scripts`` is refused (SSM has
      no sibling modules), and so is a marker anywhere else;
    * ``<shared>.py`` exists, keeps its imports at the top and inlines nothing itself;
    * no name that ``<shared>.py`` defines is also defined by the script (or by an earlier inline):
      the script imports it instead;
    * an import of ``<shared>.py`` that the script has too (same statement) is dropped, one the script
      lacks is written before the inlined code, one whose name the script binds otherwise is refused;
      a ``from __future__`` import must already be in the script.

    The result is parsed again, so a document never carries a script that is not valid Python.
    """
    directory = directory or path.parent
    where = _where(path)
    source = path.read_text(encoding="utf-8")
    tree = _parse(source, where)
    marks = _comment_lines(source, where)
    for line, comment in marks.items():
        if not _MARK.fullmatch(comment):
            raise DocumentError(f"{where}:{line}: malformed inline marker {comment!r}: write {INLINE_MARK!r}")
    top = set(map(id, tree.body))
    inlines: list[ast.ImportFrom] = []
    for node in ast.walk(tree):
        if not _is_package_import(node):
            continue
        lines = range(node.lineno, (node.end_lineno or node.lineno) + 1)
        marked = [line for line in lines if line in marks]
        stmt = ast.unparse(node)
        if not marked:
            raise DocumentError(
                f"{where}:{node.lineno}: {stmt!r} without {INLINE_MARK!r}: SSM runs the script alone, "
                "so shared code must be inlined"
            )
        if id(node) not in top or not isinstance(node, ast.ImportFrom) or node.module == INLINE_PACKAGE:
            raise DocumentError(
                f"{where}:{node.lineno}: {stmt!r}: inline only a top-level "
                f"'from {INLINE_PACKAGE}.<module> import <names>'"
            )
        for line in marked:
            del marks[line]
        inlines.append(node)
    if marks:
        line = min(marks)
        raise DocumentError(
            f"{where}:{line}: {INLINE_MARK!r} is not on a 'from {INLINE_PACKAGE}.<module> import ...' line"
        )
    if not inlines:
        return source

    script_names = _defined_names([s for s in tree.body if not any(s is n for n in inlines)])
    futures = {b for _, (_, b) in script_names.items() if b and b.startswith("from __future__ ")}
    taken = dict(script_names)  # grows with each inline
    lines = source.splitlines(keepends=True)
    replacements: list[tuple[int, int, str]] = []
    for node in sorted(inlines, key=lambda n: n.lineno):
        module = node.module.removeprefix(INLINE_PACKAGE + ".")
        target = directory / f"{module.replace('.', '/')}.py"
        if "." in module or not target.is_file():
            raise DocumentError(f"{where}:{node.lineno}: inline target {node.module!r}: no file {_where(target)}")
        shared = _shared_module(target, _where(target))
        for alias in node.names:
            if alias.name == "*" or alias.asname:
                raise DocumentError(
                    f"{where}:{node.lineno}: inline of {node.module!r} imports "
                    f"{alias.name + (' as ' + alias.asname if alias.asname else '')!r}: name each one, no 'as'"
                )
            if alias.name not in shared.defines:
                raise DocumentError(
                    f"{where}:{node.lineno}: inline of {node.module!r}: {alias.name!r} is not defined by {shared.where}"
                )
        for name, line in shared.defines.items():
            if name in taken:
                raise DocumentError(
                    f"{where}:{taken[name][0]}: {name!r} is defined here and by {shared.where}:{line}, which line "
                    f"{node.lineno} inlines: import it from there instead"
                )
        header = []
        for name, stmt, line in shared.imports:
            if stmt.startswith("from __future__ "):
                if stmt not in futures:
                    raise DocumentError(
                        f"{where}:{node.lineno}: inline of {node.module!r} needs {stmt!r} ({shared.where}:{line}) "
                        "at the top of the script"
                    )
                continue
            if name in taken:
                if taken[name][1] != stmt:
                    raise DocumentError(
                        f"{where}:{taken[name][0]}: {name!r} is bound here otherwise than {stmt!r} "
                        f"({shared.where}:{line}), which line {node.lineno} inlines"
                    )
                continue
            header.append(stmt)
            taken[name] = (node.lineno, stmt)
        for name in shared.defines:
            taken[name] = (node.lineno, None)
        text = "".join(f"{stmt}\n" for stmt in header) + f"# --- inlined from {shared.where}\n{shared.code}\n"
        replacements.append((node.lineno, node.end_lineno or node.lineno, text))
    for first, last, text in reversed(replacements):
        lines[first - 1 : last] = [text]
    rendered = "".join(lines)
    _parse(rendered, f"{where} (rendered)")
    return rendered


def _render(value: Any, namespace: str) -> Any:
    if isinstance(value, dict):
        return {k: _render(v, namespace) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, namespace) for v in value]
    if isinstance(value, str):
        script = _SCRIPT.match(value.strip())
        if script:
            return script_text(script.group(1))
        if "%%" in value:
            value = _ROLE.sub(lambda m: f"{m.group(1)}-{namespace}", value)
            if "%%" in value:
                raise DocumentError(f"unknown placeholder in {value!r}")
        return value
    return value


def render_document(source: dict[str, Any], namespace: str, *, deploy_time: bool = False) -> dict[str, Any]:
    """Replace ``%%SCRIPT=..%%`` and ``%%ROLE=..%%`` placeholders.

    ``deploy_time``: ``namespace`` is a CloudFormation token (the stack's Namespace
    parameter) resolved when the stack deploys, so it is not checked here.
    """
    if not deploy_time and not re.fullmatch(solution.NAMESPACE_PATTERN, namespace):
        raise DocumentError(f"namespace {namespace!r} does not match {solution.NAMESPACE_PATTERN}")
    return _render(source, namespace)


def render_remediation_runbook(name: str, namespace: str, *, deploy_time: bool = False) -> dict[str, Any]:
    """Rendered content of ``ASR-<Name>`` (``name`` with or without ``ASR-``)."""
    return render_document(runbook_source(name), namespace, deploy_time=deploy_time)


# --- IAM declarations -----------------------------------------------------------

_ALLOWED_SUBSTITUTIONS = {"AWS::Partition", "AWS::AccountId", "Namespace"}


@dataclass(frozen=True)
class Statement:
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: dict[str, Any] = field(default_factory=dict)
    justification: str = ""

    def as_policy(self) -> dict[str, Any]:
        stmt: dict[str, Any] = {
            "Effect": "Allow",
            "Action": list(self.actions) if len(self.actions) > 1 else self.actions[0],
            "Resource": list(self.resources) if len(self.resources) > 1 else self.resources[0],
        }
        if self.conditions:
            stmt["Condition"] = self.conditions
        return stmt


@dataclass(frozen=True)
class ServiceRole:
    """A role the remediation hands to an AWS service (retained on delete)."""

    name: str  # without SO0111- prefix and -<ns> suffix
    principal: str
    statements: tuple[Statement, ...] = ()
    managed_policies: tuple[str, ...] = ()
    instance_profile: str = ""  # without SO0111- prefix and -<ns> suffix


@dataclass(frozen=True)
class Permissions:
    remediation: str
    statements: tuple[Statement, ...]
    service_roles: tuple[ServiceRole, ...] = ()


def _statement(raw: Any, where: str) -> Statement:
    if not isinstance(raw, dict):
        raise DocumentError(f"{where}: a statement must be a mapping")
    unknown = set(raw) - {"actions", "resources", "conditions", "justification"}
    if unknown:
        raise DocumentError(f"{where}: unknown keys {sorted(unknown)}")
    actions = tuple(raw.get("actions") or ())
    resources = tuple(raw.get("resources") or ())
    if not actions or not resources:
        raise DocumentError(f"{where}: a statement needs actions and resources")
    for action in actions:
        if not re.fullmatch(r"[a-z0-9-]+:[A-Za-z0-9*]+", action):
            raise DocumentError(f"{where}: action {action!r} is not service:Action")
    justification = str(raw.get("justification") or "").strip()
    if "*" in resources and not justification:
        raise DocumentError(f"{where}: resource '*' needs a one-line justification")
    for resource in resources:
        for sub in re.findall(r"\$\{([^}]+)\}", resource):
            if sub not in _ALLOWED_SUBSTITUTIONS:
                raise DocumentError(
                    f"{where}: substitution ${{{sub}}} in {resource!r} is not one of "
                    f"{sorted(_ALLOWED_SUBSTITUTIONS)} (roles are global: use * for the Region)"
                )
    return Statement(actions, resources, dict(raw.get("conditions") or {}), justification)


@functools.cache
def permissions(remediation: str) -> Permissions:
    """IAM declaration of ``remediation`` (name without ``ASR-``/``AWS-``)."""
    path = PERMISSIONS_DIR / f"{remediation}.yaml"
    raw = _load_yaml(path)
    where = str(path.relative_to(REPO_ROOT))
    if not isinstance(raw, dict) or not raw.get("statements"):
        raise DocumentError(f"{where}: needs a non-empty 'statements' list")
    statements = tuple(_statement(s, f"{where} statement {i}") for i, s in enumerate(raw["statements"]))
    roles = []
    for i, r in enumerate(raw.get("service_roles") or ()):
        rwhere = f"{where} service_roles[{i}]"
        if not isinstance(r, dict) or not r.get("name") or not r.get("principal"):
            raise DocumentError(f"{rwhere}: needs name and principal")
        roles.append(
            ServiceRole(
                name=r["name"],
                principal=r["principal"],
                statements=tuple(
                    _statement(s, f"{rwhere} statement {j}") for j, s in enumerate(r.get("statements") or ())
                ),
                managed_policies=tuple(r.get("managed_policies") or ()),
                instance_profile=r.get("instance_profile", ""),
            )
        )
    return Permissions(remediation, statements, tuple(roles))


def permission_names() -> list[str]:
    """Remediations with an IAM declaration (ASR runbooks and AWS-owned documents)."""
    return sorted(p.stem for p in PERMISSIONS_DIR.glob("*.yaml"))
