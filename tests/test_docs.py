"""The examples in README.md and docs/*.md are true.

Every fenced ```python block is run, each in a fresh namespace (no block of the docs
uses what an earlier one defined), in a temporary working directory holding the files the
docs name (`chats.jsonl`, `labelled.jsonl`, `acme_returns.yaml`). A block is left out only
by a visible marker on the line directly before its fence, giving the reason:

    <!-- docs-test: skip (needs a trained empathy.npz) -->

Every ```console / ```bash block that shows a `heard ...` command is checked against the
CLI: the command exists and each long option it uses appears in `heard COMMAND --help`.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from heard.cli import app

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->")
FENCE = re.compile(r"^```(?P<lang>[\w+-]*)\s*$")
SHELL_LANGS = {"console", "bash", "sh", "shell"}
WIDE = {"COLUMNS": "240", "TERMINAL_WIDTH": "240", "NO_COLOR": "1"}


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    code: str
    skip: str | None  # the reason given by a skip marker, or None

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown file, with any skip marker right before them."""
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        start = i
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].rstrip() != "```":
            body.append(lines[i])
            i += 1
        marker = SKIP.search(lines[start - 1]) if start > 0 else None
        found.append(
            Block(
                path=path,
                line=start + 1,
                lang=m.group("lang").lower(),
                code="\n".join(body) + "\n",
                skip=marker.group("reason") if marker else None,
            )
        )
        i += 1
    return found


def fenced(path: Path, lang: str) -> list[Block]:
    return [b for b in blocks(path) if b.lang == lang]


PY_BLOCKS = [b for p in DOCS for b in fenced(p, "python")]


@pytest.fixture
def docs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory with the files the examples read."""
    import heard.storage.database as database

    examples = REPO / "src" / "heard" / "examples" / "conversations.jsonl"
    shutil.copy(examples, tmp_path / "chats.jsonl")
    # labelled.jsonl: the labelled conversation shown in docs/evaluation.md
    labelled = fenced(REPO / "docs" / "evaluation.md", "json")[0].code
    (tmp_path / "labelled.jsonl").write_text(json.dumps(json.loads(labelled)) + "\n")
    # acme_returns.yaml: the example playbook of docs/playbooks.md
    playbook = fenced(REPO / "docs" / "playbooks.md", "yaml")[0].code
    (tmp_path / "acme_returns.yaml").write_text(playbook, encoding="utf-8")
    # docs/service.md writes an Alembic revision: into a copy of the migrations, not src/
    migrations = tmp_path / "_migrations"
    shutil.copytree(REPO / "src" / "heard" / "storage" / "migrations", migrations)
    monkeypatch.setattr(database, "SCRIPT_LOCATION", str(migrations))
    monkeypatch.setenv("HEARD_DATA_DIR", str(tmp_path / "_data"))
    monkeypatch.delenv("HEARD_DATABASE_URL", raising=False)
    monkeypatch.delenv("HEARD_LLM_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@pytest.mark.parametrize("block", PY_BLOCKS, ids=[b.where for b in PY_BLOCKS])
def test_python_example_runs(block: Block, docs_dir: Path) -> None:
    if block.skip is not None:
        pytest.skip(f"{block.where}: {block.skip}")
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    # pad so that a traceback names the line of the doc
    code = compile("\n" * block.line + block.code, str(block.path), "exec")
    try:
        exec(code, namespace)
    except Exception as exc:
        raise AssertionError(f"the example at {block.where} raised {exc!r}") from exc


def test_skips_are_few_and_give_a_reason() -> None:
    skipped = [b for p in DOCS for b in blocks(p) if b.skip is not None]
    assert all(b.lang == "python" for b in skipped), [b.where for b in skipped]
    assert len(skipped) <= 3, [b.where for b in skipped]
    assert all(b.skip and b.skip.strip() for b in skipped)


# --- shell examples ------------------------------------------------------------------


def heard_commands(block: Block) -> list[list[str]]:
    """The `heard ...` command lines of a shell block, as argument lists (without `heard`)."""
    commands: list[list[str]] = []
    for raw in block.code.splitlines():
        line = raw.strip()
        if block.lang == "console":
            if not line.startswith("$ "):
                continue
            line = line[2:]
        if line.startswith("#"):
            continue
        line = line.split(" #", 1)[0]
        for part in re.split(r"&&|\|\||[|;]", line):
            words = shlex.split(part.strip())
            words = [w for w in words if not w.startswith((">", "<"))]
            if words and words[0] == "heard":
                commands.append(words[1:])
    return commands


SHELL_BLOCKS = [b for p in DOCS for b in blocks(p) if b.lang in SHELL_LANGS and heard_commands(b)]


def command_path(args: list[str]) -> list[str]:
    """The leading words of `args` that name a command of `heard` ([] when they name none)."""
    command: Any = typer.main.get_command(app)
    path: list[str] = []
    for word in args:
        subcommands = getattr(command, "commands", None)
        if not subcommands or word not in subcommands:
            break
        command = subcommands[word]
        path.append(word)
    if getattr(command, "commands", None):  # a group such as `eval` without its command
        return []
    return path


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=[b.where for b in SHELL_BLOCKS])
def test_shell_examples_use_real_commands_and_options(block: Block) -> None:
    runner = CliRunner()
    for args in heard_commands(block):
        path = command_path(args)
        assert path, f"{block.where}: `heard {' '.join(args)}` names no heard command"
        result = runner.invoke(app, [*path, "--help"], env=WIDE)
        assert result.exit_code == 0, f"{block.where}: heard {' '.join(path)} --help failed"
        options = [a.split("=", 1)[0] for a in args if a.startswith("--")]
        for option in options:
            assert re.search(rf"{re.escape(option)}(?![\w-])", result.output), (
                f"{block.where}: `heard {' '.join(path)}` has no option {option}"
            )


def test_shell_blocks_are_found() -> None:
    commands = {" ".join(command_path(a)) for b in SHELL_BLOCKS for a in heard_commands(b)}
    assert {"demo", "coach", "eval labeled", "playbook check", "serve"} <= commands


def test_playbook_check_prints_what_the_doc_shows(docs_dir: Path) -> None:
    doc = REPO / "docs" / "playbooks.md"
    shown = next(b for b in fenced(doc, "console") if "acme_returns.yaml" in b.code)
    lines = shown.code.strip().splitlines()
    args = shlex.split(lines[0].removeprefix("$ "))[1:]
    result = CliRunner().invoke(app, args, env=WIDE)
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines() == lines[1:]


def keys(items: list[dict[str, Any]]) -> set[str]:
    return {key for item in items for key in item}


def test_readme_jsonl_fields_exist(docs_dir: Path) -> None:
    """The fields of the `heard analyze --format jsonl` line shown in README.md are real."""
    shown = json.loads(fenced(REPO / "README.md", "json")[0].code)
    result = CliRunner().invoke(app, ["analyze", "chats.jsonl", "--format", "jsonl", "--fast"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines
    turns = [t for line in lines for t in line["turns"]]
    cards = [c for line in lines for c in line["scorecards"].values()]
    pairs = [
        ([shown], lines),
        (shown["turns"], turns),
        (
            [f for t in shown["turns"] for f in t["findings"]],
            [f for t in turns for f in t["findings"]],
        ),
        (list(shown["scorecards"].values()), cards),
        ([shown["risk"]], [line["risk"] for line in lines]),
        (shown["commitments"], [c for line in lines for c in line["commitments"]]),
    ]
    for doc_items, real_items in pairs:
        assert keys(doc_items) <= keys(real_items), keys(doc_items) - keys(real_items)
    finding = shown["turns"][0]["findings"][0]
    start, end = finding["span"]
    assert end - start == len(finding["text"])
