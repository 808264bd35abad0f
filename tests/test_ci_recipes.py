"""docs/ci.md, run: every command of its GitHub Actions workflow, GitLab job and Makefile,
in order, in a temporary git repository whose pull request changes a spec.

pvgen is installed by the recipes' own install step into a fresh virtual environment, from
its wheel and the dependencies' wheels of tests/.wheels (no network). `uses:` steps stand
for what the runner provides: the checkout is the repository itself, setup-python the fresh
environment, and upload-sarif is checked to receive valid SARIF.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import venv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import ROOT, sarif_schema
from test_wheel import WHEELHOUSE, build_wheel

DOC = ROOT / "docs" / "ci.md"

SPEC = """abi demo {
    version 1;
    stability stable;
}

target x86_64 {
    data_model lp64;
}

/// Interrupt-flag operations.
table pv_irq_ops {
    /// Halts the CPU until the next interrupt.
    void halt();

    /// Disables interrupts.
    void irq_disable();
}

/// Bare hardware.
backend native default;

/// A paravirtualized guest.
backend xen {
    pv_irq_ops: halt, irq_disable;
}

/// Another paravirtualized guest.
backend kvm {
    pv_irq_ops: halt, irq_disable;
}
"""
ADDED = SPEC.replace(
    "    void irq_disable();\n",
    "    void irq_disable();\n\n    /// Enables interrupts.\n    void irq_enable();\n",
)
REMOVED = SPEC.replace("\n    /// Disables interrupts.\n    void irq_disable();\n", "").replace(
    "halt, irq_disable;", "halt;"
)
# An error: a hook that only one hypervisor overrides (PV103).
PRIVATE = ADDED.replace(
    "    pv_irq_ops: halt, irq_disable;\n", "    pv_irq_ops: halt, irq_disable, irq_enable;\n", 1
)


def section(title: str) -> str:
    """The first fenced block after the heading `title` in docs/ci.md."""
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    match = re.compile(r"```[a-z]*\n(.*?)```", re.S).search(text, start)
    assert match is not None, title
    return match.group(1)


@dataclass
class Repo:
    folder: Path
    env: dict[str, str]

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", *args],
            cwd=self.folder,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def shell(self, script: str, extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=self.folder,
            env={**self.env, **extra},
            capture_output=True,
            text=True,
            timeout=300,
        )

    def pull_request(self, spec: str, *, regenerate: bool = True) -> None:
        """A branch off main whose spec is `spec` (outputs regenerated unless told not)."""
        self.git("checkout", "-q", "-B", "change", "origin/main")
        (self.folder / "specs" / "demo.pvspec").write_text(spec, encoding="utf-8")
        if regenerate:
            subprocess.run([sys.executable, "-m", "pvgen", "generate"], cwd=self.folder, check=True)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", "change")
        for leftover in ("pvgen.sarif", "abi-diff.md", "summary.md"):
            (self.folder / leftover).unlink(missing_ok=True)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    if not (WHEELHOUSE / ".complete").exists():
        pytest.fail("tests/.wheels is missing: 'make test' fetches the dependencies' wheels")
    base = tmp_path_factory.mktemp("ci")
    wheel = build_wheel(ROOT, base / "dist")
    venv.EnvBuilder(with_pip=True).create(base / "venv")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "VIRTUAL_ENV"))}
    env.update(
        PATH=f"{base / 'venv' / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin",
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=f"{wheel.parent} {WHEELHOUSE}",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PVGEN_CACHE_DIR=str(base / "cache"),
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@localhost",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@localhost",
    )
    subprocess.run(
        ["git", "init", "-q", "--bare", "-b", "main", str(base / "origin.git")], check=True
    )
    folder = base / "work"
    (folder / "specs").mkdir(parents=True)
    (folder / "specs" / "demo.pvspec").write_text(SPEC, encoding="utf-8")
    (folder / "pvgen.toml").write_text('specs = ["specs/demo.pvspec"]\n', encoding="utf-8")
    (folder / ".gitignore").write_text("pvgen.sarif\nabi-diff.md\nsummary.md\n")
    subprocess.run([sys.executable, "-m", "pvgen", "generate"], cwd=folder, check=True)
    repo = Repo(folder, env)
    repo.git("init", "-q", "-b", "main")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "base")
    repo.git("remote", "add", "origin", str(base / "origin.git"))
    repo.git("push", "-q", "origin", "main")
    repo.git("fetch", "-q", "origin")
    return repo


# ---- GitHub Actions ------------------------------------------------------------------------


@dataclass
class Job:
    results: dict[str, int] = field(default_factory=dict)  # step name -> exit status
    output: str = ""
    summary: str = ""

    @property
    def failed(self) -> list[str]:
        return [name for name, status in self.results.items() if status != 0]


def run_github(repo: Repo) -> Job:
    workflow: dict[str, Any] = yaml.safe_load(section("GitHub Actions"))
    steps = workflow["jobs"]["pvgen"]["steps"]
    job = Job()
    summary = repo.folder / "summary.md"
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_BASE_REF": "main",
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    failed = False
    for number, step in enumerate(steps):
        name = step.get("name", step.get("uses", str(number)))
        condition = step.get("if")
        if condition == "always()":
            run_it = True
        elif condition == "github.event_name == 'pull_request'":
            run_it = not failed
        else:
            assert condition is None, f"the test does not know the condition {condition!r}"
            run_it = not failed
        if not run_it:
            continue
        if "uses" in step:
            action = step["uses"].split("@")[0]
            if action == "actions/checkout":
                assert step["with"]["fetch-depth"] == 0  # diff --against reads the base branch
            elif action == "actions/setup-python":
                assert step["with"]["python-version"] == "3.11"
            elif action == "github/codeql-action/upload-sarif":
                sarif = json.loads((repo.folder / step["with"]["sarif_file"]).read_text())
                jsonschema.Draft4Validator(sarif_schema()).validate(sarif)
                assert sarif["runs"][0]["tool"]["driver"]["name"] == "pvgen"
            else:
                raise AssertionError(f"the test does not know the action {action}")
            job.results[name] = 0
            continue
        result = repo.shell(step["run"], env)
        job.results[name] = result.returncode
        job.output += result.stdout + result.stderr
        failed = failed or result.returncode != 0
    job.summary = summary.read_text(encoding="utf-8") if summary.exists() else ""
    return job


def test_github_a_compatible_change_passes_with_its_report(repo: Repo) -> None:
    repo.pull_request(ADDED)
    job = run_github(repo)
    assert job.failed == [], job.output
    assert "ABI changes against the base branch" in job.results
    assert "Install pvgen" in job.results
    assert "compatible" in job.summary.lower() and "irq_enable" in job.summary
    assert "PV204" in job.summary
    # The github-format diff annotates the change on its line.
    assert re.search(r"::notice file=specs/demo\.pvspec,line=\d+", job.output)


def test_github_a_breaking_change_fails_the_abi_step(repo: Repo) -> None:
    repo.pull_request(REMOVED)
    job = run_github(repo)
    assert job.failed == ["ABI changes against the base branch"], job.output
    assert "breaking" in job.summary.lower() and "PV203" in job.summary
    assert "pvgen diff exited 12" in job.output


def test_github_stale_generated_code_fails_its_step(repo: Repo) -> None:
    repo.pull_request(ADDED, regenerate=False)
    job = run_github(repo)
    assert job.failed == ["Generated code is current"], job.output
    assert "out of date; run 'pvgen generate'" in job.output


def test_github_an_error_in_a_spec_is_uploaded_then_fails(repo: Repo) -> None:
    repo.pull_request(PRIVATE)
    job = run_github(repo)
    assert job.failed == ["Check the specs"], job.output
    assert job.results["Upload the findings to code scanning"] == 0
    assert "::error file=specs/demo.pvspec" in job.output and "PV103" in job.output
    sarif = json.loads((repo.folder / "pvgen.sarif").read_text())
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["PV103"]


# ---- GitLab CI ----------------------------------------------------------------------------


def run_gitlab(repo: Repo) -> subprocess.CompletedProcess[str]:
    config: dict[str, Any] = yaml.safe_load(section("GitLab CI"))
    job = config["pvgen"]
    assert job["variables"]["GIT_DEPTH"] == "0"
    # A GitLab runner runs the lines in one shell and stops at the first that fails.
    script = "\n".join([*job["before_script"], *job["script"]])
    env = {
        "CI": "true",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
    }
    return repo.shell(script, env)


def test_gitlab_job(repo: Repo) -> None:
    repo.pull_request(ADDED)
    result = run_gitlab(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "irq_enable" in (repo.folder / "abi-diff.md").read_text()
    assert (repo.folder / "pvgen.sarif").exists()
    repo.pull_request(REMOVED)
    assert run_gitlab(repo).returncode == 1
    repo.pull_request(PRIVATE)
    result = run_gitlab(repo)
    assert result.returncode == 1 and "error[PV103]" in result.stderr


# ---- Makefile -----------------------------------------------------------------------------


def run_make(repo: Repo) -> subprocess.CompletedProcess[str]:
    (repo.folder / "pvgen.mk").write_text(section("A plain Makefile"), encoding="utf-8")
    repo.shell("python -m pip install --quiet pvgen", {})
    try:
        return repo.shell("make --no-print-directory -f pvgen.mk pvgen-check", {})
    finally:
        (repo.folder / "pvgen.mk").unlink()


def test_makefile(repo: Repo) -> None:
    repo.pull_request(ADDED)
    result = run_make(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PV204" in result.stdout
    repo.pull_request(REMOVED)
    result = run_make(repo)
    assert result.returncode != 0
    assert "pvgen diff: exit 12" in result.stderr
    repo.pull_request(ADDED, regenerate=False)
    result = run_make(repo)
    assert result.returncode != 0 and "out of date" in result.stderr


def test_the_recipes_use_only_options_pvgen_has() -> None:
    from pvgen.cli import build_parser

    text = "\n".join(section(t) for t in ("GitHub Actions", "GitLab CI", "A plain Makefile"))
    command = re.compile(r"^\s*(?:- |run: |@status=0; )?(?:pvgen|\$\(PVGEN\)) ([^|>;\n]*)", re.M)
    lines = command.findall(text)
    assert {line.split()[0] for line in lines} == {"fmt", "check", "generate", "diff"}
    for line in lines:
        words = shlex.split(re.sub(r"\$\(?\w+\)?", "main", line))
        build_parser().parse_args(words)  # exits (a failure here) on an unknown option
