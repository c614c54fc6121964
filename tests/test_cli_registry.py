"""The command line is assembled from `vigie.app.cli.COMMANDS`: a command registered from anywhere (here, this test
file only) is run by `vigie` like a built-in one, without editing any other module."""

from __future__ import annotations

import click
import pytest

from vigie.app.cli import COMMANDS
from vigie.app.cli.main import main

BUILTIN = ["alerts", "backtest", "deliver", "demo", "es", "export", "feedback", "kibana", "metrics", "nlp", "notify",
           "report", "run", "samples", "score", "serve", "status", "trends"]


@click.command("hello")
@click.argument("name")
@click.option("--shout", is_flag=True)
def hello(name: str, shout: bool) -> None:
    """Say hello (a command that exists only in this test)."""
    text = f"hello {name}"
    click.echo(text.upper() if shout else text)


@pytest.fixture
def registered_hello():
    COMMANDS.register("hello", hello)
    try:
        yield
    finally:
        COMMANDS.unregister("hello")


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as done:
        main(argv)
    return done.value.code


def test_every_builtin_command_registers_itself():
    assert BUILTIN == sorted(COMMANDS.names())


def test_a_command_registered_by_a_test_runs_through_main(registered_hello, capsys):
    assert run(["hello", "Brivolle", "--shout"]) == 0
    assert capsys.readouterr().out == "HELLO BRIVOLLE\n"

    assert run(["--help"]) == 0
    listing = capsys.readouterr().out
    assert "hello     Say hello (a command that exists only in this test)." in listing
    assert "demo" in listing and "run" in listing  # the built-in ones are still there


def test_an_unregistered_command_is_unknown_again(capsys):
    COMMANDS.register("hello", hello)
    COMMANDS.unregister("hello")
    assert run(["hello", "x"]) == 2
    assert "No such command 'hello'" in capsys.readouterr().err


def test_a_name_cannot_be_taken_twice():
    other = click.Command("demo", callback=lambda: None)
    with pytest.raises(ValueError, match="command 'demo' is registered twice"):
        COMMANDS.register("demo", other)
