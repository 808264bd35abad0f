"""The `pvgen` command line: the parser, the exit statuses, and nothing else.

Takes: the command line and the configuration (pvgen.toml or `[tool.pvgen]`).
Hands on: the chosen command's exit status: 0 (clean), 1 (the specs have errors), 2 (bad
usage or unreadable input), 3 (a bug in pvgen). Each command lives in `pvgen.commands`,
its options beside its code; diagnostics go to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .commands import COMMANDS
from .commands.base import EXIT_BUG, EXIT_FINDINGS, EXIT_USAGE, UsageError
from .config import ConfigError, load_config
from .escape import terminal


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, told the width up front.

    argparse makes a formatter for every argument it adds, and each asks the terminal
    for its width through `shutil`, whose import (with bz2 and lzma) costs a few
    milliseconds of every run; the width only matters when help is printed.
    """

    def __init__(self, prog: str, **options: Any) -> None:
        columns = os.environ.get("COLUMNS", "")
        options.setdefault("width", int(columns) - 2 if columns.isdigit() else 98)
        super().__init__(prog, **options)


CONFIG_HELP = (
    "the configuration file: a pvgen.toml, or a pyproject.toml with [tool.pvgen] (default:"
    " the nearest of either, from the working directory up)"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        formatter_class=_HelpFormatter,
        prog="pvgen",
        description="Compile paravirtualization hook-table specs (.pvspec) and check them.",
        epilog="Exit status: 0 clean, 1 errors in the specs, 2 bad usage or unreadable input.",
    )
    parser.add_argument("--version", action="version", version=f"pvgen {__version__}")
    parser.add_argument("--config", metavar="PATH", help=CONFIG_HELP)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for command in COMMANDS:
        sub = commands.add_parser(
            command.NAME,
            help=command.HELP,
            description=command.DESCRIPTION,
            formatter_class=_HelpFormatter,
        )
        command.add_arguments(sub)
        # Also after the command's name; SUPPRESS keeps one given before it.
        sub.add_argument("--config", metavar="PATH", default=argparse.SUPPRESS, help=CONFIG_HELP)
        sub.set_defaults(run=command.run)
    return parser


def run() -> NoReturn:
    """The `pvgen` command (and `python -m pvgen`): `main`, then an exit that skips the
    interpreter's teardown, which frees every object and module one by one (about 45 ms
    after a 10,000-hook check). Everything pvgen writes is closed by then, but standard
    output and error, which are flushed here first. The cycle collector stays off to the
    end: turned on again, its first pass would scan every object the command made (40 to
    50 ms after a 10,000-hook check), all of which the exit drops anyway."""
    status = main(exiting=True)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # the reader went away while the last lines were pending
            _silence_stdout()
            status = status or 128 + 13
        except (OSError, ValueError):  # closed or gone: nothing more can be said there
            pass
    os._exit(status)


def main(argv: Sequence[str] | None = None, *, exiting: bool = False) -> int:
    """Run the command of `argv` (else of the process's arguments) and return its exit
    status. `exiting`: the process ends right after, so the cycle collector, turned off
    while the command runs, is left off."""
    # pvgen is a short-lived process that builds large acyclic structures; the
    # cycle collector would only rescan them (a third of the time of a large
    # check). Reference counting still frees everything that is dropped.
    gc.disable()
    previous = _catch_signals()
    try:
        return _run(argv)
    except Terminated as exc:
        return 128 + exc.signal
    finally:
        if not exiting:
            gc.enable()
        for number, handler in previous.items():
            signal.signal(number, handler)


class Terminated(BaseException):
    """A signal asked pvgen to stop. Raised where the program is, so that every `finally`
    and cleanup on the way out runs: no temporary file is left behind. A BaseException,
    so that no handler of ordinary errors swallows it."""

    def __init__(self, number: int) -> None:
        super().__init__(f"signal {number}")
        self.signal = number


# The signals that end a process by default and can be caught (SIGINT is Python's
# KeyboardInterrupt already; SIGXFSZ is left alone: a write past the file size limit
# is an ordinary error then).
_STOP_SIGNALS = ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGXCPU")


def _raise_terminated(number: int, frame: object) -> None:
    raise Terminated(number)


def _catch_signals() -> dict[int, Any]:
    """Turn the stopping signals into `Terminated`, except those ignored on purpose (nohup
    ignores SIGHUP); returns the handlers they had."""
    previous: dict[int, Any] = {}
    for name in _STOP_SIGNALS:
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is signal.SIG_DFL:
            try:
                previous[number] = signal.signal(number, _raise_terminated)
            except ValueError:  # not the main thread: signals stay as they are
                break
    return previous


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load_config(path=Path(args.config) if args.config else None)
        return int(args.run(args, config))
    except (UsageError, ConfigError) as exc:  # ConfigError: also a rule plugin that fails
        print(f"pvgen: error: {terminal(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except RecursionError:
        print("pvgen: error: input nests too deeply", file=sys.stderr)
        return EXIT_FINDINGS
    except MemoryError:
        print("pvgen: error: out of memory", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`pvgen dump ... | head`): stop, as a program killed by
        # SIGPIPE would, and keep the interpreter from failing on the final flush.
        _silence_stdout()
        return 128 + 13
    except Exception as exc:  # a bug: say so plainly, without a wall of traceback
        print(f"pvgen: internal error: {type(exc).__name__}: {terminal(str(exc))}", file=sys.stderr)
        print("please report this with the spec that caused it", file=sys.stderr)
        if os.environ.get("PVGEN_DEBUG"):
            import traceback

            traceback.print_exc()
        return EXIT_BUG


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so that what is still buffered for a reader
    that has gone is dropped rather than raising again at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real stdout (a test's StringIO)
        pass
