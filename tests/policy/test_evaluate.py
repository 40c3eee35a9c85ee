"""decide(): every rule kind, the precedence, initiators, retries, lookups."""

from __future__ import annotations

import datetime as dt

import pytest

from asr.policy import document as doc
from asr.policy import evaluate as ev
from tests.policy.conftest import ACCOUNT, BUCKET_ARN, NOW, OTHER, facts, policy

OUS = {ACCOUNT: ("ou-ab12-child111", "ou-ab12-parent11", "r-ab12"), OTHER: ("ou-ab12-other111", "r-ab12")}


def resolver(calls: list[str] | None = None):
    def resolve(account: str):
        if calls is not None:
            calls.append(account)
        return OUS[account]

    return resolve


def decide(p, f=None, **kw):
    kw.setdefault("now", NOW)
    kw.setdefault("ou_resolver", resolver())
    return ev.decide(p, f or facts(), **kw)


# --- no policy: today's behaviour ----------------------------------------------------------------


@pytest.mark.parametrize("initiator", [ev.AUTO, ev.MANUAL])
@pytest.mark.parametrize("p", [doc.default_policy(), policy("version: 1\n")], ids=["none", "empty"])
def test_no_policy_lets_everything_proceed(p, initiator):
    d = ev.decide(p, facts(), now=NOW, initiator=initiator)  # no resolver, no tags: none needed
    assert d.outcome == ev.PROCEED and d.allowed
    assert d.rule == ev.DEFAULTS and d.mode == "auto"
    assert d.retries.attempts == 1 and d.deadline_seconds is None
    assert d.ous is None and d.tags_from is None


# --- DISABLED --------------------------------------------------------------------------------------


def test_control_disabled():
    p = policy("version: 1\ncontrols:\n  S3.2: {enabled: false}\n  S3.1: {mode: auto}\n")
    d = decide(p, initiator=ev.MANUAL)
    assert (d.outcome, d.rule) == (ev.DISABLED, "controls.S3.2.enabled")
    assert "disabled for control S3.2" in d.reason
    assert decide(p, facts(control="S3.1")).outcome == ev.PROCEED


def test_global_disabled_beats_a_control_enabled():
    p = policy("version: 1\nglobal: {enabled: false}\ncontrols:\n  S3.2: {enabled: true}\n")
    d = decide(p)
    assert (d.outcome, d.rule) == (ev.DISABLED, "global.enabled")


def test_disabled_beats_exemption_and_scope_and_needs_no_lookup():
    p = policy(
        """\
        version: 1
        controls:
          S3.2:
            enabled: false
            scope: {include: {ous: [ou-ab12-nowhere1]}}
            exemptions: [{tag: Keep, reason: r, owner: o, expires: "2027-01-01T00:00:00Z"}]
        """
    )
    calls: list[str] = []
    d = ev.decide(p, facts(), now=NOW, ou_resolver=resolver(calls))
    assert d.outcome == ev.DISABLED and calls == [] and d.tags_from is None


# --- EXEMPT ------------------------------------------------------------------------------------------

EXEMPTIONS = """\
version: 1
controls:
  S3.2:
    exemptions:
      - {resource: "arn:aws:s3:::other", reason: other, owner: o, expires: "2027-01-01T00:00:00Z"}
      - {%s, reason: "Public website", owner: web-team, expires: "2026-06-30T00:00:00Z"}
"""


@pytest.mark.parametrize(
    "target",
    [
        f'resource: "{BUCKET_ARN}"',
        'resource_pattern: "arn:aws:s3:::my-*"',
        "tag: Keep",
        "tag: Keep=yes",
        "tag: {key: Keep}",
    ],
)
def test_each_exemption_kind_applies(target):
    p = policy(EXEMPTIONS % target)
    d = decide(p, facts(tags={"Keep": "yes"}))
    assert (d.outcome, d.rule) == (ev.EXEMPT, "controls.S3.2.exemptions[1]")
    assert d.exemption is not None
    assert (d.exemption.reason, d.exemption.owner, d.exemption.expires) == (
        "Public website",
        "web-team",
        "2026-06-30T00:00:00Z",
    )
    assert "exempt" in d.reason and "until 2026-06-30T00:00:00Z" in d.reason and "Public website" in d.reason


@pytest.mark.parametrize(
    "target",
    ['resource: "arn:aws:s3:::my-bucket2"', 'resource_pattern: "arn:aws:s3:::my-"', "tag: Keep=no", "tag: keep"],
)
def test_exemptions_that_do_not_match(target):
    d = decide(policy(EXEMPTIONS % target), facts(tags={"Keep": "yes"}))
    assert d.outcome == ev.PROCEED and d.exemption is None


def test_expired_exemption_is_ignored_and_reported():
    p = policy(EXEMPTIONS % f'resource: "{BUCKET_ARN}"')
    later = dt.datetime(2026, 6, 30, tzinfo=dt.UTC)  # the expiry instant itself: expired
    d = decide(p, now=later)
    assert d.outcome == ev.PROCEED
    assert [e.path for e in d.expired_exemptions] == ["controls.S3.2.exemptions[1]"]
    assert d.expired_exemptions[0].owner == "web-team"
    assert decide(p, now=later - dt.timedelta(seconds=1)).outcome == ev.EXEMPT


def test_expired_exemption_reported_even_when_another_applies():
    p = policy(
        """\
        version: 1
        global:
          exemptions:
            - {resource: "arn:aws:s3:::my-bucket", reason: old, owner: a, expires: "2025-01-01T00:00:00Z"}
            - {resource_pattern: "arn:aws:s3:::*", reason: new, owner: b, expires: "2027-01-01T00:00:00Z"}
        """
    )
    d = decide(p)
    assert (d.outcome, d.rule) == (ev.EXEMPT, "global.exemptions[1]")
    assert [e.reason for e in d.expired_exemptions] == ["old"]


def test_manual_action_on_exempt_resource_is_refused_unless_override():
    text = EXEMPTIONS % f'resource: "{BUCKET_ARN}"'
    d = decide(policy(text), initiator=ev.MANUAL)
    assert d.outcome == ev.EXEMPT
    assert "custom action is refused because allow_manual_override is not set (default false)" in d.reason
    p = policy(text.replace("  S3.2:\n", "  S3.2:\n    allow_manual_override: true\n"))
    d = decide(p, initiator=ev.MANUAL)
    assert d.outcome == ev.PROCEED and d.overridden and d.exemption.path == "controls.S3.2.exemptions[1]"
    assert "overridden" in d.reason
    # the override is for the human's click only: automatic triggers and retries stay exempt
    assert decide(p, initiator=ev.AUTO).outcome == ev.EXEMPT
    assert decide(p, initiator=ev.RETRY, attempt=2, previous_outcome="FAILED").outcome == ev.EXEMPT


def test_override_then_scope_and_mode_still_apply():
    p = policy(
        """\
        version: 1
        global:
          allow_manual_override: true
          mode: dry-run
          exemptions: [{resource: "arn:aws:s3:::my-bucket", reason: r, owner: o, expires: "2027-01-01T00:00:00Z"}]
        """
    )
    d = decide(p, initiator=ev.MANUAL)
    assert d.outcome == ev.DRY_RUN and d.overridden


# --- OUT_OF_SCOPE ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "inside", "outside"),
    [
        ("accounts: ['111111111111']", {}, {"account": OTHER}),
        ("regions: [us-east-1, eu-west-1]", {}, {"region": "eu-central-1"}),
        ("resources: ['arn:aws:s3:::my-*']", {}, {"resource": "arn:aws:s3:::your-bucket"}),
        ("tags: [Env=prod]", {"tags": {"Env": "prod"}}, {"tags": {"Env": "dev"}}),
        ("tags: [Env]", {"tags": {"Env": "dev"}}, {"tags": {"Team": "x"}}),
        ("ous: [ou-ab12-child111]", {}, {"account": OTHER}),  # the account's own OU
        ("ous: [ou-ab12-parent11]", {}, {"account": OTHER}),  # an OU above it (nested)
        ("ous: [r-ab12]", {}, None),  # the root holds everyone
    ],
)
def test_every_scope_kind_include_and_exclude(selector, inside, outside):
    include = policy(f"version: 1\ncontrols:\n  S3.2:\n    scope:\n      include: {{{selector}}}\n")
    exclude = policy(f"version: 1\ncontrols:\n  S3.2:\n    scope:\n      exclude: {{{selector}}}\n")
    kind = selector.split(":")[0]
    assert decide(include, facts(**inside)).outcome == ev.PROCEED
    d = decide(exclude, facts(**inside))
    assert (d.outcome, d.rule) == (ev.OUT_OF_SCOPE, f"controls.S3.2.scope.exclude.{kind}[0]")
    assert d.reason.startswith("excluded:")
    if outside is not None:
        d = decide(include, facts(**outside))
        assert (d.outcome, d.rule) == (ev.OUT_OF_SCOPE, f"controls.S3.2.scope.include.{kind}")
        assert d.reason.startswith("not included:")
        assert decide(exclude, facts(**outside)).outcome == ev.PROCEED


def test_exclude_beats_include():
    p = policy(
        """\
        version: 1
        global:
          scope:
            include: {accounts: ["111111111111"], ous: [r-ab12]}
            exclude: {ous: [ou-ab12-parent11]}
        """
    )
    d = decide(p)
    assert (d.outcome, d.rule) == (ev.OUT_OF_SCOPE, "global.scope.exclude.ous[0]")
    assert d.ous == OUS[ACCOUNT]


def test_include_kinds_all_must_match():
    p = policy("version: 1\nglobal:\n  scope:\n    include: {accounts: ['111111111111'], regions: [eu-west-1]}\n")
    d = decide(p)
    assert (d.outcome, d.rule) == (ev.OUT_OF_SCOPE, "global.scope.include.regions")
    assert decide(p, facts(region="eu-west-1")).outcome == ev.PROCEED


def test_global_and_control_scopes_both_apply():
    p = policy(
        """\
        version: 1
        global: {scope: {exclude: {regions: [ap-east-1]}}}
        controls:
          S3.2: {scope: {include: {accounts: ["111111111111"]}}}
        """
    )
    assert decide(p, facts(region="ap-east-1")).rule == "global.scope.exclude.regions[0]"
    assert decide(p, facts(account=OTHER)).rule == "controls.S3.2.scope.include.accounts"
    assert decide(p).outcome == ev.PROCEED
    assert decide(p, facts(control="S3.1", account=OTHER)).outcome == ev.PROCEED  # another control


def test_exemption_beats_scope():
    p = policy(
        """\
        version: 1
        global:
          scope: {exclude: {accounts: ["111111111111"]}}
          exemptions: [{resource: "arn:aws:s3:::my-bucket", reason: r, owner: o, expires: "2027-01-01T00:00:00Z"}]
        """
    )
    assert decide(p).outcome == ev.EXEMPT


# --- mode ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "initiator", "outcome"),
    [
        ("auto", ev.AUTO, ev.PROCEED),
        ("auto", ev.MANUAL, ev.PROCEED),
        ("manual", ev.AUTO, ev.MANUAL_ONLY),
        ("manual", ev.MANUAL, ev.PROCEED),
        ("dry-run", ev.AUTO, ev.DRY_RUN),
        ("dry-run", ev.MANUAL, ev.DRY_RUN),
    ],
)
def test_modes(mode, initiator, outcome):
    d = decide(policy(f"version: 1\nglobal: {{mode: {mode}}}\n"), initiator=initiator)
    assert (d.outcome, d.rule, d.mode) == (outcome, "global.mode", mode)


def test_control_mode_overrides_global():
    p = policy("version: 1\nglobal: {mode: dry-run}\ncontrols:\n  S3.2: {mode: auto}\n")
    assert decide(p).outcome == ev.PROCEED and decide(p).rule == "controls.S3.2.mode"
    assert decide(p, facts(control="EC2.19")).outcome == ev.DRY_RUN
    assert decide(p, facts(control=None)).outcome == ev.DRY_RUN  # a finding without ASR control: global only


def test_scope_beats_mode():
    p = policy("version: 1\nglobal: {mode: dry-run, scope: {include: {regions: [eu-west-1]}}}\n")
    assert decide(p).outcome == ev.OUT_OF_SCOPE


# --- retries and deadline -----------------------------------------------------------------------------

RETRIES = "version: 1\nglobal: {deadline: 1d12h, retries: {attempts: 3, backoff_seconds: 30, on: [TIMEDOUT]}}\n"


def test_decision_carries_retries_and_deadline():
    d = decide(policy(RETRIES))
    assert d.deadline_seconds == 129600 and d.to_json()["deadline"] == "1d12h"
    assert d.retries.to_json() == {
        "attempts": 3,
        "backoff_seconds": 30,
        "on": ["TIMEDOUT"],
        "cap_per_account_region": 10,
    }


def test_retry_decisions():
    p = policy(RETRIES)
    d = decide(p, initiator=ev.RETRY, attempt=2, previous_outcome="TIMEDOUT")
    assert d.outcome == ev.PROCEED and d.retry_delay_seconds == 30
    assert decide(p, initiator=ev.RETRY, attempt=3, previous_outcome="TIMEDOUT").retry_delay_seconds == 60
    d = decide(p, initiator=ev.RETRY, attempt=4, previous_outcome="TIMEDOUT")
    assert (d.outcome, d.rule) == (ev.RETRY_NOT_ALLOWED, "global.retries")
    assert decide(p, initiator=ev.RETRY, attempt=2, previous_outcome="FAILED").outcome == ev.RETRY_NOT_ALLOWED
    # no retries configured (the default): every retry is refused
    d = decide(policy("version: 1\n"), initiator=ev.RETRY, attempt=2, previous_outcome="FAILED")
    assert (d.outcome, d.rule) == (ev.RETRY_NOT_ALLOWED, ev.DEFAULTS)


def test_control_retries_replace_global():
    p = policy(RETRIES + "controls:\n  S3.2: {retries: {attempts: 2}, deadline: null}\n")
    d = decide(p)
    assert d.retries.attempts == 2 and d.retries.on == ("FAILED", "TIMEDOUT") and d.deadline_seconds is None


def test_backoff_is_capped_at_a_day():
    assert doc.Retries(attempts=10, backoff_seconds=86400).delay_before(10) == 86400


# --- lookups --------------------------------------------------------------------------------------------


def test_ou_resolver_is_called_once_and_only_when_needed():
    calls: list[str] = []
    p = policy(
        "version: 1\nglobal:\n  scope:\n"
        "    include: {ous: [ou-ab12-parent11]}\n    exclude: {ous: [ou-ab12-other111]}\n"
    )
    d = ev.decide(p, facts(), now=NOW, ou_resolver=resolver(calls))
    assert d.outcome == ev.PROCEED and calls == [ACCOUNT]
    calls.clear()
    ev.decide(
        policy("version: 1\nglobal: {scope: {include: {accounts: ['111111111111']}}}\n"),
        facts(),
        now=NOW,
        ou_resolver=resolver(calls),
    )
    assert calls == []


def test_missing_resolver_or_tags_is_an_error_not_a_guess():
    with pytest.raises(ev.DecisionInputError, match="names OUs, and no OU resolver"):
        ev.decide(policy("version: 1\nglobal: {scope: {include: {ous: [r-ab12]}}}\n"), facts(), now=NOW)
    tagged = policy(
        "version: 1\nglobal: {exemptions: [{tag: Keep, reason: r, owner: o, expires: '2027-01-01T00:00:00Z'}]}\n"
    )
    with pytest.raises(ev.DecisionInputError, match="needs the tags of arn:aws:s3:::my-bucket"):
        ev.decide(tagged, facts(), now=NOW)


def test_finding_tags_win_over_the_lookup_and_the_lookup_is_lazy():
    p = policy("version: 1\nglobal: {scope: {include: {tags: [Env=prod]}}}\n")
    looked: list[int] = []

    def lookup():
        looked.append(1)
        return {"Env": "dev"}

    d = ev.decide(p, facts(tags={"Env": "prod"}), now=NOW, tags=lookup)
    assert d.outcome == ev.PROCEED and d.tags_from == "finding" and looked == []
    d = ev.decide(p, facts(), now=NOW, tags=lookup)
    assert d.outcome == ev.OUT_OF_SCOPE and d.tags_from == "lookup" and looked == [1]
    assert "Env=dev" in d.reason
    assert ev.decide(p, facts(), now=NOW, tags={}).outcome == ev.OUT_OF_SCOPE


def test_bad_inputs():
    p = policy("version: 1\n")
    with pytest.raises(ev.DecisionInputError, match="no time zone"):
        ev.decide(p, facts(), now=dt.datetime(2026, 1, 1))
    with pytest.raises(ev.DecisionInputError, match="initiator 'robot'"):
        ev.decide(p, facts(), now=NOW, initiator="robot")
    with pytest.raises(ev.DecisionInputError, match="attempt 2 or later"):
        ev.decide(p, facts(), now=NOW, initiator=ev.RETRY)


def test_decisions_are_deterministic_and_carry_the_policy():
    p = doc.loads("version: 1\nglobal: {mode: manual}\n")
    a, b = decide(p), decide(p)
    assert a == b and a.to_json() == b.to_json()
    assert a.policy_sha256 == p.sha256 and a.policy_version == 1
    assert a.to_json()["policy"] == {"version": 1, "sha256": p.sha256, "revision": None}


def test_expired_tag_exemption_needs_no_tags_and_an_applying_one_stops_the_search():
    p = policy(
        """\
        version: 1
        global:
          exemptions:
            - {tag: Old, reason: r, owner: o, expires: "2025-01-01T00:00:00Z"}
            - {resource: "arn:aws:s3:::my-bucket", reason: r, owner: o, expires: "2027-01-01T00:00:00Z"}
            - {tag: Later, reason: r, owner: o, expires: "2027-01-01T00:00:00Z"}
        """
    )
    d = ev.decide(p, facts(), now=NOW)  # no tags anywhere: none are needed to decide
    assert (d.outcome, d.rule, d.expired_exemptions) == (ev.EXEMPT, "global.exemptions[1]", ())
    d = ev.decide(p, facts(tags={"Old": "1"}), now=NOW)
    assert [e.path for e in d.expired_exemptions] == ["global.exemptions[0]"]
