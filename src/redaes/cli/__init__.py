"""The ``redaes`` command line (typer).

Each command group lives in its own module exposing ``register(app)``; heavy imports happen
inside the commands so ``redaes --help`` stays fast. User errors (:class:`RedaesError`) print one
line naming the file and the problem and exit with status 2, without a traceback.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.text import Text

from redaes.errors import RedaesError

app = typer.Typer(
    name="redaes",
    help="Image aesthetic assessment from relative, edit-induced differences. Scores: 0-10.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err_console = Console(stderr=True)


def print_error(message: object, label: str = "error:", style: str = "bold red") -> None:
    """Print ``label message`` on stderr, the message verbatim (no rich markup: file names and
    install hints keep their square brackets, e.g. ``pip install 'redaes[iqa]'``)."""
    err_console.print(Text.assemble((label, style), " ", str(message)), soft_wrap=True)


@app.callback()
def _root() -> None:
    """redaes: score, compare, explain and edit photos; build RED datasets; evaluate models."""


def _register_all() -> None:
    from redaes.cli import (
        calibrate_cmds,
        corpus_cmds,
        edit_cmds,
        eval_cmds,
        mllm_cmds,
        pairs_cmds,
        registry_cmds,
        score_cmds,
        serve_cmds,
        train_cmds,
    )

    for module in (edit_cmds, corpus_cmds, pairs_cmds, eval_cmds, registry_cmds):
        module.register(app)
    score_cmds.register(app)
    train_cmds.register(app)
    calibrate_cmds.register(app)
    serve_cmds.register(app)
    mllm_cmds.register(app)


_register_all()


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point. Returns the exit status (2 for user errors)."""
    try:
        app(args=argv, prog_name="redaes")
    except SystemExit as exc:  # typer/click exit (0, usage errors = 2, aborted = 1)
        code = exc.code
        if code == 130:  # typer turns Ctrl-C (KeyboardInterrupt) into a silent exit 130
            err_console.print("interrupted", highlight=False)
        return code if isinstance(code, int) else (0 if code is None else 1)
    except RedaesError as exc:
        print_error(exc)
        return 2
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as exc:
        print_error(exc)
        return 2
    except KeyboardInterrupt:
        err_console.print("interrupted", highlight=False)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
