"""Playbooks: the built-ins, the schema, the validator's numbered problems, resolve, the CLI."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml
from pydantic import ValidationError
from typer.testing import CliRunner

import heard.cli.commands_playbook  # noqa: F401  (registers `heard playbook`)
from heard.catalog import catalog
from heard.cli.app import app
from heard.errors import PlaybookError
from heard.scoring.playbook import (
    BUILTIN_PLAYBOOKS,
    FRAMEWORK_PLAYBOOKS,
    Playbook,
    as_mapping,
    builtin,
    builtin_playbooks,
    builtin_text,
    load_company,
    playbook_json_schema,
    resolve,
    schema_text,
)
from heard.scoring.validate import PROBLEMS, Problem, suggest_id, validate, validate_file

REPO = Path(__file__).resolve().parent.parent
SCHEMA_FILE = REPO / "src/heard/playbooks/playbook.schema.json"
DOCS = REPO / "docs/playbooks.md"
runner = CliRunner()


def problems(text: str) -> list[Problem]:
    return validate(textwrap.dedent(text).lstrip("\n"), "team.yaml")


def codes(text: str) -> list[tuple[str, int | None]]:
    return [(p.code, p.line) for p in problems(text)]


# -- built-ins ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILTIN_PLAYBOOKS)
def test_builtin_validates_cleanly(name: str) -> None:
    assert validate(builtin_text(name), name) == []


@pytest.mark.parametrize("name", BUILTIN_PLAYBOOKS)
def test_builtin_matches_json_schema(name: str) -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.validate(yaml.safe_load(builtin_text(name)), schema)


def test_schema_file_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text() == schema_text(), (
        "playbook.schema.json is stale: run "
        "`heard playbook schema > src/heard/playbooks/playbook.schema.json`"
    )
    jsonschema.Draft202012Validator.check_schema(playbook_json_schema())


def test_schema_rejects_what_the_validator_rejects() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    bad = {"name": "x", "steps": [{"id": "a", "name": "A", "weight": 0, "colour": "red"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_one_builtin_per_seed_framework() -> None:
    frameworks = [i for i, e in catalog().items() if e.kind == "framework"]
    assert [pb.framework for pb in builtin_playbooks()] == frameworks
    assert [pb.name for pb in builtin_playbooks()] == list(FRAMEWORK_PLAYBOOKS)
    assert {pb.key for pb in builtin_playbooks()} == set(frameworks)


def test_framework_steps_follow_the_method() -> None:
    compassion = builtin("F.compassion")
    assert [s.id for s in compassion.steps] == [
        "acknowledge_emotions",
        "seek_to_understand",
        "keepable_commitment",
    ]
    secrets = builtin("F.secrets")
    assert {"T.mirror", "T.label", "T.audit"} <= set(secrets.step("be_heard").satisfied_by)
    assert {"T.explore", "T.confirm_root"} <= set(secrets.step("solve_real_problem").satisfied_by)
    assert secrets.step("outcome_not_process").applies_when == "outcome_question"

    jerk = builtin("F.jerk")
    assert [s.id for s in jerk.steps] == ["just_calm_down", "empathize", "redirect", "plan_b"]
    calm = jerk.step("just_calm_down")
    assert calm.satisfied_by == [] and set(calm.broken_by) == {"X.match_emotion", "X.dismiss"}
    assert jerk.step("redirect").satisfied_by == ["T.refocus"]

    send = builtin("F.send")
    for sid in ("stop", "eyes", "nod"):
        step = send.step(sid)
        assert step.observable is False and step.note
    assert send.step("document").satisfied_by == ["T.document"]
    assert send.step("timely_attention").reply_within_seconds == 120

    five = builtin("five_step")
    assert [s.id for s in five.steps] == [
        "listen",
        "acknowledge_apologize",
        "willing_to_help",
        "resolve_quickly",
        "thank",
    ]
    toister = builtin("F.toister")
    assert toister.step("bend_rules").satisfied_by == ["T.remedy"]
    assert toister.step("policy_with_benefit").broken_by == ["X.bare_policy"]


def test_no_step_reads_a_customer_signal() -> None:
    for name in BUILTIN_PLAYBOOKS:
        for step in builtin(name).steps:
            for ident in step.ids():
                assert catalog()[ident].kind in ("technique", "anti_pattern"), (name, ident)


def test_builtins_are_fresh_copies() -> None:
    a = builtin("jerk")
    a.steps.clear()
    assert len(builtin("jerk").steps) == 4


@pytest.mark.parametrize("name", BUILTIN_PLAYBOOKS)
def test_resolved_playbook_round_trips_as_a_file(name: str) -> None:
    pb = builtin(name)
    text = yaml.safe_dump(as_mapping(pb), sort_keys=False)
    assert validate(text, "dump") == []
    again = Playbook.from_yaml(text)
    assert again.steps == pb.steps
    assert again.remedies == pb.remedies and again.escalation == pb.escalation


# -- the company: remedies, policies, escalation ---------------------------------------------


def test_company_remedies_and_authority() -> None:
    company = load_company()
    assert company.authority_levels == ["agent", "supervisor", "manager"]
    agent = [r.id for r in company.remedies_for("agent")]
    assert "goodwill_credit" in agent and "refund" not in agent
    assert "refund" in [r.id for r in company.remedies_for("supervisor")]
    assert company.remedy("goodwill_credit").limits.max_amount == 25
    assert company.remedy("refund").limits.max_amount == 200
    assert company.may_grant("agent", "goodwill_credit", amount=20)
    assert not company.may_grant("agent", "goodwill_credit", amount=30)
    assert not company.may_grant("agent", "refund", amount=10)
    assert company.may_grant("supervisor", "refund", amount=200)
    assert company.may_grant("manager", "refund")
    assert company.next_level("agent") == "supervisor"
    assert company.next_level("manager") is None
    (path,) = company.escalations_from("agent")
    assert path.to_level == "supervisor" and path.within_hours == 2
    assert "2 hours" in path.how
    with pytest.raises(PlaybookError):
        company.rank("ceo")
    with pytest.raises(PlaybookError):
        company.remedy("pony")


def test_company_policies_have_reasons_and_benefits() -> None:
    company = load_company()
    reasons = {p.id: p.reason for p in company.policies}
    assert reasons["id_check"] == "safety"
    assert reasons["one_refund_per_order"] == "fairness"
    assert "efficiency" in reasons.values()
    assert all(p.benefit.strip() for p in company.policies)


def test_company_extends_toister() -> None:
    company = builtin("company")
    assert company.framework is None and company.key == "company"
    assert company.based_on == "toister"
    ids = [s.id for s in company.steps]
    assert ids[: len(builtin("toister").steps)] == [s.id for s in builtin("toister").steps]
    assert ids[-1] == "plan_b"


def test_load_company_from_a_team_file(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_text(
        textwrap.dedent(
            """
            name: team
            extends: company
            authority_levels: [agent, lead, supervisor, manager]
            remedies:
              - {id: voucher, name: Voucher, authority: lead, limits: {max_amount: 10}}
            escalation:
              - {from: agent, to: lead, how: Lead calls back within the hour, within_hours: 1}
            """
        )
    )
    company = load_company(path)
    assert company.name == "team"
    assert company.may_grant("lead", "voucher", 10) and not company.may_grant("agent", "voucher")
    assert company.may_grant("lead", "goodwill_credit", 25)  # inherited, lead ranks above agent
    assert company.next_level("agent") == "lead"
    assert [e.to_level for e in company.escalations_from("agent")] == ["supervisor", "lead"]


def test_inherited_remedies_must_fit_the_new_levels() -> None:
    found = problems("name: team\nextends: company\nauthority_levels: [agent, lead]\n")
    assert {p.code for p in found} == {"P009"}
    assert {p.line for p in found} == {3}
    assert any("remedy 'refund' inherited from company" in p.message for p in found)
    assert any("escalation path 'agent' -> 'supervisor'" in p.message for p in found)


# -- the validator -----------------------------------------------------------------------------

GOOD = """\
name: team
steps:
  - id: listen
    name: Listen
    satisfied_by: [T.mirror]
"""


def test_good_playbook_has_no_problems() -> None:
    assert problems(GOOD) == []


def test_p001_not_yaml_with_parser_line() -> None:
    found = problems(
        """
        name: team
        steps:
          - id: listen
            name: "unterminated
        """
    )
    assert [p.code for p in found] == ["P001"]
    assert found[0].line is not None and found[0].line >= 4
    assert "not valid YAML" in found[0].message


#: Seven lines of anchors that stand for 9**6 (531,441) step values.
ALIAS_BOMB = (
    "name: bomb\na: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcde", "bcdef", strict=True)
    )
    + "steps: *f\n"
)


def test_p001_yaml_aliases_are_refused_at_their_line() -> None:
    # an alias bomb used to be expanded and every copy checked (about 20 s at 9**7)
    found = problems(ALIAS_BOMB)
    assert [(p.code, p.line) for p in found] == [("P001", 3)]
    assert "aliases (*name) are not allowed" in found[0].message
    with pytest.raises(PlaybookError, match="aliases"):
        Playbook.from_yaml(ALIAS_BOMB)
    # the same values written out are fine
    assert (
        problems(
            """
        name: team
        steps:
          - {id: listen, name: Listen, satisfied_by: [T.acknowledge]}
        """
        )
        == []
    )


def test_p001_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    assert [p.code for p in validate_file(path)] == ["P001"]


def test_p002_wrong_types_and_not_a_mapping() -> None:
    assert codes("- just\n- a list\n") == [("P002", 1)]
    assert codes("") == [("P002", 1)]
    found = problems(
        """
        name: team
        steps:
          - id: listen
            name: Listen
            satisfied_by: T.mirror
            observable: maybe
        """
    )
    assert [(p.code, p.line) for p in found] == [("P002", 5), ("P002", 6)]
    assert "'satisfied_by' should be a list" in found[0].message
    assert "step 'listen'" in found[0].message


def test_p003_unknown_id_with_suggestion_and_line() -> None:
    found = problems(
        """
        name: team
        steps:
          - id: empathize
            name: Empathize
            satisfied_by:
              - T.label
              - T.empathise
        """
    )
    assert [(p.code, p.line) for p in found] == [("P003", 7)]
    assert str(found[0]) == (
        "P003 line 7: step 'empathize' refers to unknown id 'T.empathise'; did you mean "
        "'T.acknowledge'? (known ids: heard catalog)"
    )


@pytest.mark.parametrize(
    ("bad", "meant"),
    [
        ("T.acknowlege", "T.acknowledge"),
        ("t.mirror", "T.mirror"),
        ("T.empathy", "T.acknowledge"),
        ("T.escalate", "T.plan_b"),
        ("X.sarcasm", "X.match_emotion"),
        ("T.apology", "T.apologize"),
    ],
)
def test_suggest_id(bad: str, meant: str) -> None:
    assert suggest_id(bad) == meant


def test_every_hint_points_at_a_catalog_id() -> None:
    hints = yaml.safe_load((REPO / "src/heard/scoring/id_hints.yaml").read_text())["hints"]
    assert set(hints.values()) <= set(catalog())


def test_p004_unknown_keys_at_each_level() -> None:
    found = problems(
        """
        name: team
        stepz: []
        steps:
          - id: listen
            name: Listen
            satisified_by: [T.mirror]
            satisfied_by: [T.mirror]
        remedies:
          - {id: r, name: R, authority: agent, limits: {max: 5}}
        """
    )
    assert [(p.code, p.line) for p in found] == [("P004", 2), ("P004", 6), ("P004", 9)]
    assert "unknown key 'stepz'; did you mean 'steps'?" in found[0].message
    assert "did you mean 'satisfied_by'?" in found[1].message
    assert "unknown key 'max'; did you mean 'max_amount'?" in found[2].message


def test_p005_missing_required_key() -> None:
    found = problems(
        """
        steps:
          - id: listen
            satisfied_by: [T.mirror]
        """
    )
    assert sorted((p.code, p.line) for p in found) == [("P005", 1), ("P005", 2)]
    assert {m for p in found for m in re.findall(r"key '(\w+)'", p.message)} == {"name"}


def test_p006_duplicates() -> None:
    found = problems(
        """
        name: team
        steps:
          - {id: listen, name: Listen, satisfied_by: [T.mirror]}
          - {id: listen, name: Again, satisfied_by: [T.explore]}
        policies:
          - {id: p, name: P, text: t, reason: safety, benefit: b}
          - {id: p, name: P, text: t, reason: safety, benefit: b}
        name: again
        """
    )
    assert [(p.code, p.line) for p in found] == [("P006", 4), ("P006", 7), ("P006", 8)]
    assert "earlier step (line 3)" in found[0].message
    assert "key 'name' appears twice (lines 1 and 8)" in found[2].message


def test_p007_weight_must_be_positive() -> None:
    found = problems(
        """
        name: team
        steps:
          - id: listen
            name: Listen
            satisfied_by: [T.mirror]
            weight: 0
          - {id: b, name: B, satisfied_by: [T.thank], weight: heavy}
        """
    )
    assert [(p.code, p.line) for p in found] == [("P007", 6), ("P007", 7)]
    assert "weight must be a positive number, got 0" in found[0].message


def test_p008_bad_authority_levels() -> None:
    assert codes(GOOD + "authority_levels: []\n") == [("P008", 6)]
    found = problems(GOOD + "authority_levels: [agent, lead, agent]\n")
    assert [(p.code, p.line) for p in found] == [("P008", 6)]
    assert "'agent' is listed twice" in found[0].message


def test_p009_unknown_levels_in_remedies_and_escalation() -> None:
    found = problems(
        GOOD
        + textwrap.dedent(
            """
            remedies:
              - id: refund
                name: Refund
                authority: superviser
            escalation:
              - {from: agent, to: director, how: email}
            """
        )
    )
    assert [(p.code, p.line) for p in found] == [("P009", 10), ("P009", 12)]
    assert "'superviser'" in found[0].message and "did you mean 'supervisor'?" in found[0].message
    assert "goes to 'director'" in found[1].message


def test_p010_extends_unknown_playbook() -> None:
    found = problems("name: team\nextends: F.jerky\n")
    assert [(p.code, p.line) for p in found] == [("P010", 2)]
    assert "did you mean 'jerk'?" in found[0].message


def test_p011_bad_conditions() -> None:
    found = problems(
        """
        name: team
        steps:
          - id: a
            name: A
            satisfied_by: [T.mirror]
            applies_when: customer is angry
          - id: b
            name: B
            satisfied_by: [T.mirror]
            applies_when:
              - C.emotion
              - energy>=7
              - T.mirror
          - {id: c, name: C, satisfied_by: [T.mirror], applies_when: C.emotional}
        """
    )
    assert [(p.code, p.line) for p in found] == [
        ("P011", 6),
        ("P011", 12),
        ("P011", 13),
        ("P011", 14),
    ]
    assert "from 0 to 3" in found[1].message
    assert "satisfied_by or broken_by" in found[2].message
    assert "unknown customer signal 'C.emotional'" in found[3].message


def test_p012_wrong_kind_of_id_in_a_step() -> None:
    found = problems(
        """
        name: team
        steps:
          - id: a
            name: A
            satisfied_by: [C.emotion, X.blame, F.jerk]
            broken_by: [C.unheard]
        """
    )
    assert [p.code for p in found] == ["P012"] * 4
    assert {p.line for p in found} == {5, 6}
    assert "steps read agent findings only" in found[0].message


def test_p013_steps_that_cannot_be_judged() -> None:
    found = problems(
        """
        name: team
        steps:
          - {id: a, name: A}
          - {id: b, name: B, observable: false}
          - {id: c, name: C, satisfied_by: [T.mirror], reply_within_seconds: 60}
          - {id: d, name: D, broken_by: [X.blame], within_agent_turns: 2}
          - {id: e, name: E, observable: false, note: body language, satisfied_by: [T.mirror]}
        """
    )
    assert [(p.code, p.line) for p in found] == [
        ("P013", 3),
        ("P013", 4),
        ("P013", 5),
        ("P013", 6),
        ("P013", 7),
    ]
    assert "nothing to judge" in found[0].message
    assert "needs a note" in found[1].message


def test_p014_escalation_must_go_up() -> None:
    found = problems(GOOD + "escalation:\n  - {from: manager, to: agent, how: back down}\n")
    assert [(p.code, p.line) for p in found] == [("P014", 7)]
    assert "agent < supervisor < manager" in found[0].message


def test_p015_unknown_framework() -> None:
    found = problems(GOOD + "framework: F.kindness\n")
    assert [(p.code, p.line) for p in found] == [("P015", 6)]
    assert problems(GOOD + "framework: null\n") == []


def test_p016_policy_reason() -> None:
    found = problems(
        GOOD + "policies:\n  - {id: p, name: P, text: t, reason: because, benefit: b}\n"
    )
    assert [(p.code, p.line) for p in found] == [("P016", 7)]


def test_p017_drop_steps() -> None:
    found = problems("name: team\nextends: jerk\ndrop_steps: [plan_b, plan_c]\n")
    assert [(p.code, p.line) for p in found] == [("P017", 3)]
    assert "'plan_c'" in found[0].message and "did you mean 'plan_b'?" in found[0].message
    assert codes("drop_steps: [x]\n" + GOOD)[0] == ("P017", 1)


def test_p018_no_steps() -> None:
    assert codes("name: team\n") == [("P018", 1)]
    assert [p.code for p in problems("name: team\nsteps: []\n")] == ["P018"]
    dropped = (
        "name: team\nextends: secrets\n"
        "drop_steps: [be_heard, solve_real_problem, outcome_not_process]\n"
    )
    assert [p.code for p in problems(dropped)] == ["P018"]


def test_every_problem_code_is_tested_and_documented() -> None:
    source = Path(__file__).read_text()
    docs = DOCS.read_text()
    for code in PROBLEMS:
        assert f"def test_{code.lower()}" in source, f"{code} has no test"
        assert code in docs, f"{code} is not documented in docs/playbooks.md"


def test_validate_accepts_loaded_data_without_lines() -> None:
    found = validate({"name": "team", "steps": [{"id": "a", "name": "A", "satisfied_by": ["T.x"]}]})
    assert [(p.code, p.line) for p in found] == [("P003", None)]
    assert str(found[0]).startswith("P003: ")


def test_python_built_playbook_is_validated_too() -> None:
    with pytest.raises(ValidationError, match="P003"):
        Playbook.model_validate(
            {"name": "team", "steps": [{"id": "a", "name": "A", "satisfied_by": ["T.nope"]}]}
        )


# -- extends -----------------------------------------------------------------------------------


def test_extends_replaces_adds_and_drops_steps() -> None:
    pb = Playbook.from_yaml(
        textwrap.dedent(
            """
            name: team
            extends: F.jerk
            drop_steps: [plan_b]
            steps:
              - id: empathize
                name: Empathize our way
                satisfied_by: [T.acknowledge]
                weight: 2
              - id: thank
                name: Thank
                satisfied_by: [T.thank]
            """
        )
    )
    assert [s.id for s in pb.steps] == ["just_calm_down", "empathize", "redirect", "thank"]
    assert pb.step("empathize").weight == 2 and pb.step("empathize").name == "Empathize our way"
    assert pb.based_on == "jerk" and pb.framework is None
    assert pb.description == builtin("jerk").description


# -- resolve -----------------------------------------------------------------------------------


def test_resolve_forms(tmp_path: Path) -> None:
    pb = builtin("jerk")
    assert resolve(pb) is pb
    assert resolve("F.jerk").name == "jerk"
    assert resolve("jerk").framework == "F.jerk"
    assert resolve("five-step").name == "five_step"
    path = tmp_path / "team.yaml"
    path.write_text(GOOD)
    assert resolve(str(path)).name == "team"
    assert resolve(path).name == "team"


def test_resolve_errors_are_e201_with_problems(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError) as exc:
        resolve("F.nonsense")
    assert str(exc.value).startswith("E201")
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("T.mirror", "T.mirorr"))
    with pytest.raises(PlaybookError) as exc:
        resolve(bad)
    assert str(exc.value).startswith("E201")
    assert exc.value.problems == [
        "P003 line 5: step 'listen' refers to unknown id 'T.mirorr'; did you mean "
        "'T.mirror'? (known ids: heard catalog)"
    ]


# -- CLI ---------------------------------------------------------------------------------------


def test_cli_check_ok(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_text(GOOD)
    result = runner.invoke(app, ["playbook", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok ")
    assert "team.yaml (team, 1 step)" in result.output


def test_cli_check_problems_exit_1(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("T.mirror", "T.empathise") + "colour: red\n")
    result = runner.invoke(app, ["playbook", "check", str(good), str(bad)])
    assert result.exit_code == 1
    assert "ok " in result.output
    assert "2 problems" in result.output
    assert f"P003 {bad}:5: step 'listen' refers to unknown id 'T.empathise'" in result.output
    assert f"P004 {bad}:6: unknown key 'colour'" in result.output


def test_cli_check_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: team\n")
    result = runner.invoke(app, ["playbook", "check", "--format", "json", str(bad)])
    assert result.exit_code == 1
    rows = json.loads(result.output)
    assert [r["code"] for r in rows] == ["P018"]


def test_cli_check_builtin_files_and_missing_file(tmp_path: Path) -> None:
    files = [str(REPO / f"src/heard/playbooks/{n}.yaml") for n in BUILTIN_PLAYBOOKS]
    result = runner.invoke(app, ["playbook", "check", *files])
    assert result.exit_code == 0, result.output
    assert result.output.count("ok ") == len(BUILTIN_PLAYBOOKS)
    result = runner.invoke(app, ["playbook", "check", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2


def test_cli_list_and_show() -> None:
    result = runner.invoke(app, ["playbook", "list"])
    assert result.exit_code == 0
    for name in BUILTIN_PLAYBOOKS:
        assert name in result.output
    result = runner.invoke(app, ["playbook", "show", "F.send"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert result.output.count("not observable in text") == 3
    assert "replies within 120s (timestamps)" in result.output
    result = runner.invoke(app, ["playbook", "show", "company", "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["name"] == "company"
    assert {r["id"] for r in data["remedies"]} >= {"goodwill_credit", "refund"}
    assert data["escalation"][0]["from"] == "agent"
    result = runner.invoke(app, ["playbook", "show", "company", "--format", "yaml"])
    assert result.exit_code == 0
    assert validate(result.output, "shown") == []
    result = runner.invoke(app, ["playbook", "show", "F.nope"])
    assert result.exit_code == 2


def test_cli_schema_prints_the_shipped_schema() -> None:
    result = runner.invoke(app, ["playbook", "schema"])
    assert result.exit_code == 0
    assert json.loads(result.output) == json.loads(SCHEMA_FILE.read_text())


def test_docs_cover_every_command_and_option() -> None:
    docs = DOCS.read_text()
    for command in ("check", "list", "show", "schema"):
        assert f"heard playbook {command}" in docs
    for option in ("--format",):
        assert option in docs
    for key in (
        "satisfied_by",
        "broken_by",
        "applies_when",
        "observable",
        "within_agent_turns",
        "reply_within_seconds",
        "extends",
        "drop_steps",
        "authority_levels",
        "remedies",
        "policies",
        "escalation",
        "within_hours",
        "max_amount",
    ):
        assert f"`{key}`" in docs, key


def test_docs_example_playbook_is_valid(tmp_path: Path) -> None:
    block = re.search(r"```yaml\n(.*?)```", DOCS.read_text(), re.S)
    assert block
    path = tmp_path / "acme_returns.yaml"
    path.write_text(block.group(1))
    assert validate_file(path) == []
    result = runner.invoke(app, ["playbook", "check", str(path)])
    assert result.exit_code == 0
    assert "(acme_returns, 5 steps)" in result.output
    assert "ok acme_returns.yaml (acme_returns, 5 steps)" in DOCS.read_text()
