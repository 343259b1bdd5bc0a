"""--help is written for users: every default is stated, and every document it cites ships with the
project (docs/...), never a file a user cannot open."""
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from nar_solver.cli import main

REPO = Path(__file__).resolve().parent.parent
COMMANDS = sorted(main.commands)
UNSHIPPED = re.compile(r"NAR\.md|FACTORVAE\.md|seed study|/work/", re.IGNORECASE)
#: Options with no default that need none said: leaving them out is the plain case (no extra file, a
#: pair given together, one of two modes). Any other option without a default must say in its help
#: what happens when it is not given.
NOTHING_WHEN_NOT_GIVEN = {
    ("evaluate", "--problems"), ("evaluate", "--images"), ("tune", "--problems"), ("tune", "--images"),
    ("evaluate", "--json-out"), ("evaluate", "--figure"), ("solve", "--figure"),
    ("train", "--preset"), ("train", "--config"), ("train", "--out"), ("train", "--resume"),
}


def _help(name: str) -> str:
    result = CliRunner().invoke(main, [name, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("name", COMMANDS)
def test_every_default_is_stated(name):
    command = main.commands[name]
    ctx = click.Context(command, info_name=name)
    for param in command.params:
        if not isinstance(param, click.Option) or param.name == "help":
            continue
        default = param.get_default(ctx, call=False)
        if param.is_flag and not param.secondary_opts and not default:
            continue  # a flag that is off unless given
        _, text = param.get_help_record(ctx)
        if default is not None or param.secondary_opts:
            assert "[default:" in text, f"{name} {param.opts}: {text}"
        elif (name, param.opts[0]) not in NOTHING_WHEN_NOT_GIVEN:  # None: the text says what happens then
            assert re.search(r"\(default:? |\[default: |Default: ", text), f"{name} {param.opts}: {text}"


def test_the_options_that_need_no_default_exist():
    """The list above names real options (a renamed one would otherwise slip through unchecked)."""
    for name, flag in NOTHING_WHEN_NOT_GIVEN:
        assert flag in [opt for p in main.commands[name].params for opt in p.opts], (name, flag)


@pytest.mark.parametrize("name", COMMANDS)
def test_help_cites_only_documents_that_ship(name):
    text = _help(name)
    assert not UNSHIPPED.search(text), text
    for doc in re.findall(r"docs/[\w/.-]+\.md", text):
        assert (REPO / doc).is_file(), doc


def test_no_module_docstring_or_message_cites_unshipped_documents():
    for path in sorted((REPO / "nar_solver").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not UNSHIPPED.search(text), f"{path}: {UNSHIPPED.search(text).group(0)}"
        for doc in re.findall(r"docs/[\w/-]+\.md", text):
            assert (REPO / doc).is_file(), f"{path} cites {doc}"
