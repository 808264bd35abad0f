"""The command line: exit codes, help, version, and [tool.pvgen] configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PREAMBLE, ROOT, run_cli, run_process

from pvgen import __version__

GOOD = PREAMBLE + "table t { void f(); }\nbackend native default;\n"


def test_version() -> None:
    result = run_process("--version")
    assert result.status == 0
    assert result.out.strip() == f"pvgen {__version__}"


@pytest.mark.parametrize("command", [[], ["check"], ["dump"]])
def test_help_on_every_command(command: list[str]) -> None:
    result = run_process(*command, "--help")
    assert result.status == 0
    assert result.out.startswith("usage: pvgen")


def test_exit_0_when_clean(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs({"a.pvspec": GOOD})
    result = run_process("check", "a.pvspec", cwd=folder)
    assert result.status == 0
    assert (
        result.out == "a.pvspec: abi 'demo' version 1: 1 tables, 1 hooks, 1 backends, 2 targets\n"
    )


def test_exit_1_on_errors_without_traceback(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs({"a.pvspec": PREAMBLE + "table t { void f(nope x); }\n"})
    result = run_process("check", "a.pvspec", cwd=folder)
    assert result.status == 1
    assert result.err.startswith("a.pvspec:4:18: error: unknown type 'nope'")
    assert "Traceback" not in result.err


def test_exit_2_on_bad_usage() -> None:
    result = run_process("chekc")
    assert result.status == 2
    assert "invalid choice: 'chekc'" in result.err


def test_exit_2_on_unreadable_spec(tmp_path: Path) -> None:
    result = run_process("check", "missing.pvspec", cwd=tmp_path)
    assert result.status == 2
    assert "cannot read 'missing.pvspec'" in result.err


def test_worst_status_wins_over_several_specs(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs({"good.pvspec": GOOD, "bad.pvspec": "abi x {"})
    result = run_cli("check", "good.pvspec", "bad.pvspec", cwd=folder)
    assert result.status == 1
    assert "good.pvspec: abi 'demo'" in result.out


def test_no_paths_reads_tool_pvgen(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs(
        {
            "pyproject.toml": '[tool.pvgen]\nspecs = ["specs/a.pvspec"]\n',
            "specs/a.pvspec": GOOD,
        }
    )
    (folder / "sub").mkdir()
    # From a subfolder: the nearest pyproject.toml is found upward.
    result = run_cli("check", cwd=folder / "sub")
    assert result.status == 0, result.err
    assert "abi 'demo'" in result.out


def test_no_paths_and_no_config_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("check", cwd=tmp_path)
    assert result.status == 2
    assert "no spec given" in result.err


def test_unknown_config_key_is_reported(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs({"pyproject.toml": '[tool.pvgen]\nspec = ["a.pvspec"]\n'})
    result = run_cli("check", cwd=folder)
    assert result.status == 2
    assert "unknown key 'spec' in [tool.pvgen]; did you mean 'specs'?" in result.err


def test_spec_root_from_config_allows_sibling_includes(write_specs) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs(
        {
            "pyproject.toml": '[tool.pvgen]\nspecs = ["specs/main/a.pvspec"]\nspec_root = "specs"\n',
            "specs/main/a.pvspec": GOOD + 'include "../common/types.pvspec";\n',
            "specs/common/types.pvspec": "typedef u32 word_t;\n",
        }
    )
    assert run_cli("check", cwd=folder).status == 0


def test_dump_is_json_of_the_model(write_specs) -> None:  # type: ignore[no-untyped-def]
    import json

    folder = write_specs({"a.pvspec": GOOD})
    result = run_cli("dump", "a.pvspec", "--format", "json", cwd=folder)
    assert result.status == 0
    data = json.loads(result.out)
    assert data["abi"]["name"] == "demo"
    assert data["tables"][0]["members"][0]["name"] == "f"
    assert data["layouts"]["i386"]["records"]["t"] == {"align": 4, "offsets": {"f": 0}, "size": 4}


def test_project_checks_its_own_specs() -> None:
    result = run_cli("check", cwd=ROOT)
    assert result.status == 0, result.err
    assert "specs/paravirt.pvspec: abi 'paravirt'" in result.out


def test_a_reader_that_goes_away_ends_the_run_quietly() -> None:
    """`pvgen dump ... | head -1`: once the reader has gone, pvgen stops with the status of
    a program that SIGPIPE ended (128 + 13), not with an internal error."""
    import os
    import subprocess
    import sys

    spec = Path(__file__).resolve().parent.parent / "specs" / "paravirt.pvspec"
    for args in (["dump", str(spec)], ["sim", "--compare", "--size", "3"]):
        read, write = os.pipe()
        os.close(read)  # nobody reads: the first write fails with EPIPE
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "pvgen", *args], stdout=write, stderr=subprocess.PIPE
            )
        finally:
            os.close(write)
        assert (proc.returncode, proc.stderr) == (141, b""), args
