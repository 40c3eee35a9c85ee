"""The documentation stays true: every count, name and default a page states is derived here
from the code or the data, and compared with what the page says.

The figures are pulled out of the prose with regular expressions anchored on the words around
them, so a reworded sentence fails loudly (no match) instead of passing unchecked.
"""

from __future__ import annotations

import functools
import re
import shlex
from pathlib import Path

import pytest

from asr import cli, documents, explain, solution
from asr.controls.mapping import security_control
from asr.playbooks import data
from asr.playbooks.stacks import member_parts
from asr.simulator.seeds import load_all
from lambdas.orchestrator import notifications, outcomes

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: The pages this test keeps true (the others have their own tests: remediations.md is generated
#: by asr.remediation_docs, simulator.md is checked by tests/cli).
OWNED = [
    ROOT / "README.md",
    ROOT / "examples" / "README.md",
    *(
        DOCS / name
        for name in (
            "adding-a-remediation.md",
            "coverage.md",
            "deploy.md",
            "differences.md",
            "encryption.md",
            "iam.md",
            "operate.md",
            "orchestrator.md",
            "playbooks.md",
        )
    ),
]
REGENERATE = ".venv/bin/python -m asr.cli controls --markdown > docs/coverage.md"


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _one(pattern: str, text: str, where: str) -> re.Match[str]:
    """The one place ``pattern`` matches ``text``: a page that no longer says it fails here."""
    found = list(re.finditer(pattern, text))
    assert len(found) == 1, f"{where}: expected one match of {pattern!r}, found {len(found)}"
    return found[0]


def _count(text: str) -> int:
    return int(text.replace(",", ""))


@functools.cache
def _standards() -> list[data.Standard]:
    return data.standards()


def _entries() -> int:
    return sum(len(s.entries) for s in _standards())


def _remapped() -> int:
    return sum(len(s.remaps()) for s in _standards())


def _own_runbooks() -> int:
    return sum(len(s.own()) for s in _standards())


# --- docs/coverage.md ------------------------------------------------------------------------


def test_coverage_page_is_what_asr_controls_markdown_prints():
    page = _text(DOCS / "coverage.md")
    assert page == cli.controls_markdown(_standards()), f"docs/coverage.md is out of date: run `{REGENERATE}`"


def test_the_coverage_regeneration_command_is_documented():
    assert REGENERATE in _text(DOCS / "playbooks.md")
    assert REGENERATE in _text(DOCS / "adding-a-remediation.md")


# --- docs/playbooks.md -----------------------------------------------------------------------


def test_playbooks_table_rows_are_the_playbook_data():
    page = _text(DOCS / "playbooks.md")
    for std in _standards():
        row = _one(rf"(?m)^\| `{re.escape(std.key)}` \|.*\|$", page, f"playbooks.md row {std.key}").group(0)
        cells = [c.strip().strip("`") for c in row.strip("|").split("|")]
        assert cells == [
            std.key,
            std.short_name,
            std.long_name,
            std.version,
            str(len(std.entries)),
            str(len(std.own())),
            str(len(std.remaps())),
        ], row


def test_playbooks_counts_are_derived_from_the_data():
    page = _text(DOCS / "playbooks.md")
    own = _one(r"every own control runbook \((\d+)\)", page, "playbooks.md")
    remapped = _one(r"every remapped\s+control \((\d+)\)", page, "playbooks.md")
    assert (_count(own[1]), _count(remapped[1])) == (_own_runbooks(), _remapped())
    assert _count(_one(r"the (\d+) CIS monitoring metric filters", page, "playbooks.md")[1]) == len(
        data.metric_filters()
    )
    total = _one(r"(\d+) entries in all: the reference's (\d+), plus NIST80053 (\S+)", page, "playbooks.md")
    added = [(s.key, c.control_id) for s in _standards() for c in s.entries if c.added == solution.VERSION]
    assert added == [("NIST80053", total[3].rstrip(")"))]
    assert (_count(total[1]), _count(total[2])) == (_entries(), _entries() - len(added))
    # test_end_to_end_broad.py: every account-level and S3-bucket control runbook on moto
    from tests.playbooks import test_end_to_end_broad as broad

    runbooks = _one(r"S3-bucket control of every standard \((\d+) runbooks\)", page, "playbooks.md")
    assert _count(runbooks[1]) == len(broad.ACCOUNT_CASES) + len(broad.BUCKET_CASES)


def test_member_template_split_sizes_are_the_code():
    from asr.playbooks.stacks import MEMBER_PART_BYTES

    page = _text(DOCS / "playbooks.md")
    assert _count(_one(r"parts of at most ([\d,]+) bytes", page, "playbooks.md")[1]) == MEMBER_PART_BYTES
    split = sorted(s.key for s in _standards() if len(member_parts(s)) > 1)
    differences = _text(DOCS / "differences.md")
    said = _one(r"\(([A-Z0-9, ]+)\s+and\s+([A-Z0-9]+)\s+into two parts each", differences, "differences.md")
    assert sorted([*said[1].split(", "), said[2]]) == split
    assert all(len(member_parts(s)) <= 2 for s in _standards())


# --- names: AutoTrigger parameters and rules, Enable<control>, SSM paths ----------------------


@functools.cache
def _auto_trigger_parameters() -> set[str]:
    return {
        solution.auto_trigger_parameter(s.short_name, s.version, c.control_id) for s in _standards() for c in s.entries
    }


@functools.cache
def _auto_trigger_rules() -> set[str]:
    return {solution.auto_trigger_rule(s.short_name, s.version, c.control_id) for s in _standards() for c in s.entries}


@pytest.mark.parametrize("path", OWNED, ids=[p.name for p in OWNED])
def test_every_auto_trigger_name_in_the_docs_exists(path: Path):
    text = _text(path)
    parameters = set(re.findall(r"`([A-Za-z0-9]+AutoTrigger)`", text))
    rules = set(re.findall(r"`([A-Za-z0-9]+_[\d.]+_[A-Za-z0-9.-]+_AutoTrigger)`", text))
    assert parameters <= _auto_trigger_parameters(), sorted(parameters - _auto_trigger_parameters())
    assert rules <= _auto_trigger_rules(), sorted(rules - _auto_trigger_rules())


def test_operate_names_the_auto_trigger_of_its_example_control():
    page = _text(DOCS / "operate.md")
    sc = data.load_standard("SC")
    example = _one(r"\| Example \(SC ([A-Za-z0-9.]+)\) \|", page, "operate.md")[1]
    for name in (
        solution.auto_trigger_rule(sc.short_name, sc.version, example),
        solution.auto_trigger_parameter(sc.short_name, sc.version, example),
        solution.playbook_admin_stack_id(sc.key),
        solution.control_available_parameter(example),
        solution.ssm_standard_status(sc.long_name, sc.version),
    ):
        assert f"`{name}`" in page, name
    assert explain.AUTO_TRIGGER_DEFAULT == "DISABLED" and "**DISABLED**" in page
    assert f"`{explain.CONTROL_AVAILABLE}`" in page and "`NOT Available`" in page


@pytest.mark.parametrize("path", OWNED, ids=[p.name for p in OWNED])
def test_every_enable_control_parameter_in_the_docs_exists(path: Path):
    known = {solution.control_available_parameter(c.control_id) for s in _standards() for c in s.own()}
    named = set(re.findall(r"`(Enable[A-Z][A-Za-z0-9]*\d)`", _text(path)))
    assert named <= known, sorted(named - known)


def _solution_names() -> set[str]:
    return {v for v in vars(solution).values() if isinstance(v, str)}


@functools.cache
def _source() -> str:
    """Every file the build turns into templates, documents and Lambda code, as one text."""
    files = [
        *ROOT.glob("asr/**/*.py"),
        *ROOT.glob("lambdas/**/*.py"),
        *ROOT.glob("remediation_runbooks/**/*.yaml"),
        *ROOT.glob("remediation_runbooks/scripts/*.py"),
        *ROOT.glob("playbooks/**/*.yaml"),
    ]
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


#: Names of the reference v2.3.2 that differences.md quotes because we no longer use them.
REFERENCE_ONLY = {
    "SO0111-ASR_LocalAlarmNotification",  # the guide's topic name
    "SO0111-CloudTrailToCloudWatchLogs",  # CloudTrail.5's role without -<ns>
    "SO0111-S3EnableBucketAccessLogging",  # AFSBP S3.9's RemediationRoleName default
    "SO0111-ASR-RDSEnhancedMonitoring",  # the reference's NEWPLAYBOOK example
}


def test_reference_only_names_are_not_ours():
    for name in REFERENCE_ONLY:
        assert not re.search(rf"{re.escape(name)}(?![-\w])", _source()), f"{name} is in our code after all"


@functools.cache
def _control_runbooks() -> set[str]:
    return {s.control_runbook(c.control_id) for s in _standards() for c in s.own()}


@pytest.mark.parametrize("path", OWNED, ids=[p.name for p in OWNED])
def test_every_asr_and_so0111_name_in_the_docs_exists(path: Path):
    """`ASR-...`, `SO0111-...`: a document, control runbook, alarm, topic, role, function or rule
    the build creates (names with a <placeholder> or a * are patterns, not names)."""
    known = (
        _solution_names()
        | {solution.remediation_document(n) for n in documents.remediation_names()}
        | set(solution.AWS_OWNED_DOCUMENTS)
        | _control_runbooks()
        | {solution.remediation_role(n, "").rstrip("-") for n in documents.remediation_names()}
        | {solution.control_failure_alarm(c.control_id) for c in data.load_standard("SC").entries}
    )
    named = {
        n
        for n in re.findall(r"`((?:ASR|SO0111)[-_][^`\s]*)`", _text(path))
        if "<" not in n and "*" not in n and "..." not in n
    }
    # the rest must be a literal of the code (a topic or policy a remediation or stack names)
    unknown = {n for n in named - known - REFERENCE_ONLY if not re.search(rf"{re.escape(n)}(?![\w-])", _source())}
    assert not unknown, sorted(unknown)


# --- README.md -------------------------------------------------------------------------------


def test_readme_counts_are_derived_from_the_code():
    readme = _text(ROOT / "README.md")
    assert _count(_one(r"the (\d+) remediations: document", readme, "README")[1]) == len(documents.remediation_names())
    controls = {security_control(s.key, c.control_id) for s in _standards() for c in s.entries}
    assert _count(_one(r"control a playbook remediates \((\d+)\)", readme, "README")[1]) == len(controls)
    assert _count(_one(r"every one of the (\d+) control entries", readme, "README")[1]) == _entries()
    shapes = [key for key in load_all() if key[1] != "default"]
    assert _count(_one(r"\(and (\d+) edge shapes\)", readme, "README")[1]) == len(shapes)
    from tests.playbooks import test_end_to_end_broad as broad

    assert _count(_one(r"the (\d+) account-level and S3-bucket ones", readme, "README")[1]) == len(
        broad.ACCOUNT_CASES
    ) + len(broad.BUCKET_CASES)


def test_readme_keeps_exactly_two_newcomer_commands():
    readme = _text(ROOT / "README.md")
    block = _one(r"(?s)## The two commands\n\n```bash\n(.*?)```", readme.replace("\r", ""), "README")[1]
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]
    assert commands == ["make", "make test"]


def test_readme_stack_table_names_stacks_the_app_builds():
    readme = _text(ROOT / "README.md")
    stacks = set(re.findall(r"^\| `([A-Za-z]+Stack)`", readme, re.M))
    stacks |= set(re.findall(r"`([A-Za-z]+BlueprintStack)`", readme))
    known = {
        solution.ADMIN_STACK,
        solution.MEMBER_STACK,
        solution.MEMBER_ROLES_STACK,
        solution.JIRA_BLUEPRINT_STACK,
        solution.SERVICENOW_BLUEPRINT_STACK,
        solution.ORG_KEY_STACK,
    }
    assert stacks and stacks <= known, sorted(stacks - known)
    optional = _one(r"you deploy three, (\w+) more are optional", readme, "README")[1]
    assert {"three": 3}.get(optional) == len(known) - 3


def test_readme_links_every_operator_page_that_exists():
    readme = _text(ROOT / "README.md")
    for page in ("operate.md", "coverage.md", "upgrade.md", "policy.md", "action-log.md"):
        if (DOCS / page).exists():
            assert f"(docs/{page})" in readme, f"README does not link docs/{page}"


@pytest.mark.parametrize("path", OWNED, ids=[p.name for p in OWNED])
def test_relative_links_point_at_files_that_exist(path: Path):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", _text(path)):
        if "://" in target or target.startswith("mailto:"):
            continue
        assert (path.parent / target).exists(), f"{path.name} links {target}, which does not exist"


# --- commands that work without an activated virtualenv -----------------------------------------

#: First words a documented command may start with: the project's own scripts by path, the AWS CLI,
#: make, and shell built-ins/tools used in the deploy steps.
_COMMANDS = {"make", "aws", "sed", "cd"}


def _commands(text: str) -> list[str]:
    out: list[str] = []
    for block in re.findall(r"```(?:bash|sh)\n(.*?)```", text, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(line)
    return out


@pytest.mark.parametrize("path", OWNED, ids=[p.name for p in OWNED])
def test_documented_commands_run_without_an_activated_virtualenv(path: Path):
    for command in _commands(_text(path)):
        substituted = re.fullmatch(r"[A-Z_]+=\$\((.*)\)", command)  # VAR=$(command)
        if substituted:
            command = substituted[1]
        words = shlex.split(command, comments=True)
        while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):  # VAR=value prefix or assignment
            words = words[1:]
        if not words:
            continue
        first = words[0]
        if first.startswith((".venv/bin/", "deployment/")):
            assert (ROOT / first).exists(), f"{path.name}: `{command}`: no {first}"
            continue
        assert first in _COMMANDS, f"{path.name}: `{command}` needs an activated virtualenv or an unknown tool"


def test_cdk_json_runs_the_app_with_the_project_virtualenv():
    import json

    app = json.loads(_text(ROOT / "cdk.json"))["app"]
    assert ".venv/bin/python app.py" in app and '.venv/bin:$PATH"' in app
    deploy = _text(DOCS / "deploy.md")
    assert "npx " not in deploy.replace(".venv/bin/npx ", ""), "npx only as .venv/bin/npx"


# --- defaults --------------------------------------------------------------------------------


def test_deploy_states_the_playbooks_loaded_by_default():
    deploy = _text(DOCS / "deploy.md")
    loaded = _one(r"`Load<STD>AdminStack` \((\w+) yes, others no", deploy, "deploy.md")[1]
    assert (loaded,) == explain.LOADED_BY_DEFAULT


# --- docs/operate.md: outcomes and SNS attributes -----------------------------------------------


def test_operate_troubleshoots_every_outcome():
    page = _text(DOCS / "operate.md")
    section = page.split("## Troubleshoot each outcome", 1)[1]
    headings = re.findall(r"(?m)^### ([A-Z_]+)$", section)
    assert sorted(headings) == sorted(outcomes.ALL)


def test_notifications_lists_every_outcome():
    page = _text(DOCS / "notifications.md")
    section = page.split("**Outcomes** (`Remediation_Status`", 1)[1].split("\n\n", 1)[0]
    listed = re.findall(r"`([A-Z_]{4,})`", section)
    assert sorted(set(listed)) == sorted(outcomes.ALL)


def test_operate_lists_the_sns_message_attributes_the_notifier_sends():
    body = {
        "severity": "ERROR",
        "remediation_status": "FAILED",
        "finding": {"account": "111111111111", "standard_control": "S3.5"},
    }
    sent = set(notifications.sns_attributes(body))
    page = _text(DOCS / "operate.md")
    table = _one(r"\| Attribute \| Value \|\n\|---\|---\|\n((?:\|.*\|\n)+)", page, "operate.md")[1]
    listed = set(re.findall(r"(?m)^\| `([a-z_]+)` \|", table))
    assert listed == sent
    words = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
    assert words.get(_one(r"carries (\w+) String", page, "operate.md")[1]) == len(sent)


# --- synthesized templates: Namespace and the state machine role --------------------------------


@pytest.fixture(scope="module")
def synthesized():
    from asr.iam.roles import synthesized_templates

    return synthesized_templates()


def test_namespace_description_matches_its_length_constraints(synthesized):
    param = synthesized["automated-security-response-member-roles.template"]["Parameters"]["Namespace"]
    said = re.match(r"(\d+) to (\d+) lowercase letters", param["Description"])
    assert said, param["Description"]
    assert (int(said[1]), int(said[2])) == (param["MinLength"], param["MaxLength"])


def test_state_machine_role_retention_is_stated_as_built(synthesized):
    admin = synthesized["automated-security-response-admin.template"]["Resources"]
    machine = next(r for r in admin.values() if r["Type"] == "AWS::StepFunctions::StateMachine")
    role_id = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    assert "DeletionPolicy" not in admin[role_id], "the docs say the state machine role is not retained"
    assert machine.get("DeletionPolicy") == "Retain"
    orchestrator = _text(DOCS / "orchestrator.md")
    _one(r"the state\s+machine has its own role \(generated name, no `DeletionPolicy`:", orchestrator, "orchestrator")
    differences = _text(DOCS / "differences.md")
    _one(r"has no `DeletionPolicy` \(the reference retained it\)", differences, "differences.md")
    _one(r"the state machine itself is retained", differences, "differences.md")


# --- docs/differences.md -------------------------------------------------------------------


def test_differences_counts_are_derived_from_the_code():
    page = _text(DOCS / "differences.md")
    assert _count(_one(r"All (\d+) remediation documents are our own", page, "differences.md")[1]) == len(
        documents.remediation_names()
    )
    nist = data.load_standard("NIST80053")
    said = _one(r"NIST has (\d+) entries, the reference (\d+)", page, "differences.md")
    added = [c for c in nist.entries if c.added == solution.VERSION]
    assert (_count(said[1]), _count(said[2])) == (len(nist.entries), len(nist.entries) - len(added))
    assert _one(r"Version `(v[\d.]+)`", page, "differences.md")[1] == solution.VERSION
    runtime = _one(r"latest Python runtime \(([\d.]+),", page, "differences.md")[1]
    from asr.cdk_common import LAMBDA_RUNTIME

    assert LAMBDA_RUNTIME.name == f"python{runtime}"
    from asr.member.runbooks import DOCUMENT_BATCH

    assert {int(n) for n in re.findall(r"batches of (\d+)", page)} == {DOCUMENT_BATCH}


def test_admin_playbook_resource_counts_are_the_synthesized_templates():
    import aws_cdk as cdk

    from asr.app import APP_CONTEXT
    from asr.cdk_common import Distribution
    from asr.playbooks.stacks import PlaybookAdminStack

    app = cdk.App(context=APP_CONTEXT, analytics_reporting=False)
    dist = Distribution()
    stacks = {s.key: PlaybookAdminStack(app, dist=dist, standard=s) for s in _standards()}
    assembly = app.synth()
    counts = {k: len(assembly.get_stack_by_name(s.stack_name).template["Resources"]) for k, s in stacks.items()}
    page = _text(DOCS / "differences.md")
    said = _one(
        r"Admin playbook templates together hold (\d+) resources \(reference\s+[\d,]+\);\s+SCStack (\d+)", page, ""
    )
    assert (_count(said[1]), _count(said[2])) == (sum(counts.values()), counts["SC"])


# --- docs/iam.md and docs/orchestrator.md ----------------------------------------------------


def test_iam_counts_the_remediation_roles():
    roles = set(documents.remediation_names()) | {r.name for r in data.remediations().values()}
    said = _one(r"`SO0111-<Remediation>-<Namespace>` \((\d+)\)", _text(DOCS / "iam.md"), "iam.md")
    assert _count(said[1]) == len(roles)


def test_orchestrator_figures_are_the_code():
    from asr.admin import orchestrator as machine
    from lambdas.orchestrator import payload, worker

    page = _text(DOCS / "orchestrator.md")
    timeout = _one(
        r"`Schedule and Run Remediation` times out at (\d+)\s+minutes, inside the execution's (\d+)",
        page,
        "orchestrator.md",
    )
    assert (int(timeout[1]), int(timeout[2])) == (
        int(machine.REMEDIATION_TIMEOUT.to_minutes()),
        solution.ORCHESTRATOR_TIMEOUT_MINUTES,
    )
    inline = _one(r"A finding larger than (\d+) KiB", page, "orchestrator.md")
    assert int(inline[1]) * 1024 == payload.INLINE_FINDING_BYTES
    spacing = _one(r"spacing `REMEDIATION_WAIT_SECONDS` = (\d+) s", page, "orchestrator.md")
    assert int(spacing[1]) == solution.REMEDIATION_WAIT_SECONDS
    assert _count(_one(r"TTL (\d+) days", page, "orchestrator.md")[1]) * 24 * 3600 == worker.JOB_TTL
    receives = _one(r"after (\d+) receives", page, "orchestrator.md")[1]
    assert f"max_receive_count={receives})" in _text(ROOT / "asr" / "admin" / "orchestrator.py")


# --- docs/adding-a-remediation.md ------------------------------------------------------------


def test_adding_a_remediation_names_files_that_exist():
    page = _text(DOCS / "adding-a-remediation.md")
    example = _one(r"`(\w+)` is the worked example", page, "adding-a-remediation.md")[1]
    doc = documents.runbook_source(example)
    scripts = {
        step["inputs"]["Script"].removeprefix("%%SCRIPT=").removesuffix("%%")
        for step in doc["mainSteps"]
        if step["action"] == "aws:executeScript"
    }
    assert scripts, f"{example} has a script step"
    for script in scripts:
        assert (ROOT / "remediation_runbooks" / "scripts" / script).exists()
        assert (ROOT / "tests" / "remediations" / f"test_{script}").exists(), "its proof, named after the script"
    assert (ROOT / "remediation_runbooks" / "permissions" / f"{example}.yaml").exists()
    assert "def run_runbook" in _text(ROOT / "tests" / "remediations" / "conftest.py")
    for path in re.findall(r"`((?:tests|asr|remediation_runbooks|playbooks)/[\w/.-]+\.(?:py|yaml))`", page):
        assert (ROOT / path).exists(), path
