"""asr.documents.inline_script: shared script code is inlined into the rendered document.

The scripts that encrypt with the member's key import ``configured_key`` (and ``BOTO_CONFIG``,
``RemediationError``, ``KEY_PARAMETER``) from ``remediation_runbooks/scripts/_member_key.py`` with a
``# %%INLINE%%`` marker; SSM runs each script alone, so the rendered text must carry that code once.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import boto3
import pytest

from asr import documents
from asr.documents import DocumentError, inline_script
from remediation_runbooks.scripts import _member_key
from tests.conftest import REGION

KEY_SCRIPTS = [
    "create_cloudtrail_multi_region_trail",
    "create_log_metric_filter_and_alarm",
    "enable_bucket_event_notifications",
    "enable_kms_encryption",
    "enable_vpc_flow_logs",
]
KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"

# --- the real scripts ---------------------------------------------------------------------------


def _top_level(tree: ast.Module) -> list[str]:
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names += [a.asname or a.name.partition(".")[0] for a in node.names]
    return names


@pytest.mark.parametrize("script", KEY_SCRIPTS)
def test_rendered_script_carries_the_shared_code_once(script):
    text = documents.script_text(f"{script}.py")
    assert "remediation_runbooks" not in text.replace("# --- inlined from remediation_runbooks/scripts/", "")
    assert "%%" not in text
    names = _top_level(ast.parse(text))
    for name in ("BOTO_CONFIG", "RemediationError", "KEY_PARAMETER", "_KEY_OR_ALIAS_ARN", "configured_key"):
        assert names.count(name) == 1, f"{script}: {name} defined {names.count(name)} times"
    duplicated = sorted({n for n in names if names.count(n) > 1})
    assert duplicated == [], f"{script}: names bound twice in the rendered text: {duplicated}"


@pytest.mark.parametrize("script", KEY_SCRIPTS)
def test_imported_script_uses_the_shared_objects(script):
    module = importlib.import_module(f"remediation_runbooks.scripts.{script}")
    assert module.configured_key is _member_key.configured_key
    assert module.RemediationError is _member_key.RemediationError
    assert module.BOTO_CONFIG is _member_key.BOTO_CONFIG


@pytest.mark.parametrize("script", KEY_SCRIPTS)
def test_rendered_configured_key_runs_alone(aws, script):
    """The rendered text, run by itself as SSM runs it, reads and checks the member's key."""
    namespace: dict = {"__name__": "ssm_script"}
    exec(compile(documents.script_text(f"{script}.py"), f"{script}.py", "exec"), namespace)
    configured_key = namespace["configured_key"]
    ssm = boto3.client("ssm", region_name=REGION)
    assert configured_key(" given ") == "given"
    assert configured_key("", REGION) == ""  # RemediationKeyMode None: no parameter
    ssm.put_parameter(Name=_member_key.KEY_PARAMETER, Value=f"{KEY}\n", Type="String")
    assert configured_key("", REGION) == KEY
    ssm.put_parameter(Name=_member_key.KEY_PARAMETER, Value="not-an-arn", Type="String", Overwrite=True)
    with pytest.raises(namespace["RemediationError"], match="CMK_REMEDIATION_ARN 'not-an-arn': not a KMS key"):
        configured_key("", REGION)


def test_scripts_without_marker_are_unchanged():
    path = documents.SCRIPT_DIR / "enable_key_rotation.py"
    assert documents.script_text("enable_key_rotation.py") == path.read_text(encoding="utf-8")


# --- the mechanism, on scripts written for the test ---------------------------------------------

SHARED = '''"""Shared helpers."""

from __future__ import annotations

import json
import re

WORD = re.compile(r"[a-z]+")


def dump(value: object) -> str:
    return json.dumps(value)
'''


def _write(tmp_path: Path, script: str, shared: str = SHARED, name: str = "_shared") -> Path:
    (tmp_path / f"{name}.py").write_text(shared, encoding="utf-8")
    path = tmp_path / "script.py"
    path.write_text(script, encoding="utf-8")
    return path


GOOD = """from __future__ import annotations

import re

from remediation_runbooks.scripts._shared import WORD, dump  # %%INLINE%%

LIMIT = 3


def handler(event, _context):
    return dump(WORD.findall(event["text"])[:LIMIT])
"""


def test_inline_replaces_the_marked_import(tmp_path):
    rendered = inline_script(_write(tmp_path, GOOD), tmp_path)
    assert rendered == (
        "from __future__ import annotations\n\nimport re\n\n"
        "import json\n"  # the script lacks it; re it has
        f"# --- inlined from {tmp_path / '_shared.py'}\n"
        'WORD = re.compile(r"[a-z]+")\n\n\ndef dump(value: object) -> str:\n    return json.dumps(value)\n'
        "\nLIMIT = 3\n\n\ndef handler(event, _context):\n"
        '    return dump(WORD.findall(event["text"])[:LIMIT])\n'
    )
    namespace: dict = {}
    exec(rendered, namespace)
    assert namespace["handler"]({"text": "a bb ccc dddd"}, None) == '["a", "bb", "ccc"]'


def test_inline_of_a_wrapped_import_with_a_noqa(tmp_path):
    script = GOOD.replace(
        "from remediation_runbooks.scripts._shared import WORD, dump  # %%INLINE%%",
        "from remediation_runbooks.scripts._shared import (  # %%INLINE%%  # noqa: F401\n    WORD,\n    dump,\n)",
    )
    rendered = inline_script(_write(tmp_path, script), tmp_path)
    assert "remediation_runbooks" not in rendered.replace(str(tmp_path), "")
    assert rendered.count("def dump(") == 1
    assert "    WORD,\n" not in rendered


def test_no_marker_no_change(tmp_path):
    script = "import re\n\nX = re.compile('a')\n"
    assert inline_script(_write(tmp_path, script), tmp_path) == script


def _error(tmp_path: Path, script: str, shared: str = SHARED) -> str:
    path = _write(tmp_path, script, shared)
    with pytest.raises(DocumentError) as err:
        inline_script(path, tmp_path)
    return str(err.value)


def test_missing_target_names_file_line_and_module(tmp_path):
    message = _error(tmp_path, GOOD.replace("._shared import", "._nowhere import"))
    assert message.startswith(f"{tmp_path / 'script.py'}:5: inline target 'remediation_runbooks.scripts._nowhere'")
    assert f"no file {tmp_path / '_nowhere.py'}" in message


def test_redefining_a_shared_name_is_refused(tmp_path):
    message = _error(tmp_path, GOOD + "\n\ndef dump(value):\n    return str(value)\n")
    assert message.startswith(f"{tmp_path / 'script.py'}:14: 'dump' is defined here and by ")
    assert f"{tmp_path / '_shared.py'}:11, which line 5 inlines" in message


def test_redefining_a_private_shared_name_is_refused(tmp_path):
    """A name the script does not import but the inlined code defines would be overwritten too."""
    shared = SHARED + "\n\n_CACHE = {}\n"
    message = _error(tmp_path, GOOD.replace("LIMIT = 3", "_CACHE = []"), shared)
    assert f"script.py:7: '_CACHE' is defined here and by {tmp_path / '_shared.py'}:15" in message


def test_an_import_the_script_binds_otherwise_is_refused(tmp_path):
    message = _error(tmp_path, GOOD.replace("import re\n", "import regex as re\n"))
    assert f"script.py:3: 're' is bound here otherwise than 'import re' ({tmp_path / '_shared.py'}:6)" in message


def test_a_future_import_must_be_in_the_script(tmp_path):
    message = _error(tmp_path, GOOD.replace("from __future__ import annotations\n", ""))
    assert (
        "script.py:4: inline of 'remediation_runbooks.scripts._shared' needs 'from __future__ import annotations'"
        in (message)
    )


def test_a_name_the_shared_module_lacks_is_refused(tmp_path):
    message = _error(tmp_path, GOOD.replace("import WORD, dump", "import WORD, load"))
    assert message == (
        f"{tmp_path / 'script.py'}:5: inline of 'remediation_runbooks.scripts._shared': "
        f"'load' is not defined by {tmp_path / '_shared.py'}"
    )


@pytest.mark.parametrize(("imported", "shown"), [("dump as d", "'dump as d'"), ("*", "'*'")])
def test_aliases_and_star_are_refused(tmp_path, imported, shown):
    message = _error(tmp_path, GOOD.replace("import WORD, dump", f"import {imported}"))
    assert f"script.py:5: inline of 'remediation_runbooks.scripts._shared' imports {shown}" in message


def test_an_unmarked_import_of_the_scripts_package_is_refused(tmp_path):
    message = _error(tmp_path, GOOD.replace("  # %%INLINE%%", ""))
    assert f"{tmp_path / 'script.py'}:5: 'from remediation_runbooks.scripts._shared import WORD, dump' without" in (
        message
    )
    assert "SSM runs the script alone" in message


def test_a_marker_elsewhere_is_refused(tmp_path):
    message = _error(tmp_path, GOOD.replace("LIMIT = 3", "LIMIT = 3  # %%INLINE%%"))
    assert message.startswith(f"{tmp_path / 'script.py'}:7: '# %%INLINE%%' is not on a 'from ")


def test_a_malformed_marker_is_refused(tmp_path):
    message = _error(tmp_path, GOOD.replace("# %%INLINE%%", "# %%INLINE%%please"))
    assert message == f"{tmp_path / 'script.py'}:5: malformed inline marker '# %%INLINE%%please': write '# %%INLINE%%'"


def test_an_inline_inside_a_function_is_refused(tmp_path):
    script = GOOD.replace("from remediation_runbooks.scripts._shared import WORD, dump  # %%INLINE%%\n", "").replace(
        "def handler(event, _context):\n",
        "def handler(event, _context):\n    from remediation_runbooks.scripts._shared import dump  # %%INLINE%%\n\n",
    )
    message = _error(tmp_path, script)
    assert "script.py:10: 'from remediation_runbooks.scripts._shared import dump': inline only a top-level" in message


def test_a_module_import_is_refused(tmp_path):
    script = GOOD.replace(
        "from remediation_runbooks.scripts._shared import WORD, dump", "import remediation_runbooks.scripts._shared"
    )
    message = _error(tmp_path, script)
    assert "script.py:5: 'import remediation_runbooks.scripts._shared': inline only a top-level" in message


def test_shared_imports_after_code_are_refused(tmp_path):
    message = _error(tmp_path, GOOD, SHARED + "\nimport os\n")
    assert message.startswith(f"{tmp_path / '_shared.py'}:14: import after code")


def test_a_shared_module_cannot_inline(tmp_path):
    shared = SHARED.replace("import re\n", "import re\n\nfrom remediation_runbooks.scripts._x import y  # %%INLINE%%\n")
    message = _error(tmp_path, GOOD, shared)
    assert message.startswith(f"{tmp_path / '_shared.py'}:8: an inlined module cannot inline another")


def test_invalid_python_names_the_file_and_line(tmp_path):
    message = _error(tmp_path, GOOD.replace("LIMIT = 3", "LIMIT = = 3"))
    assert message.startswith(f"{tmp_path / 'script.py'}:7: invalid Python")
