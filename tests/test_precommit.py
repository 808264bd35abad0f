"""pvgen's pre-commit hooks, run by the real pre-commit in a temporary git repository.

The hooks' repository is a git copy of this tree as it is now (committed or not), named
in the project's .pre-commit-config.yaml as users name it; pre-commit installs pvgen from
it into its own environment, with the dependencies' wheels of tests/.wheels (filled by
`make test`) instead of the network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT

WHEELHOUSE = ROOT / "tests" / ".wheels"
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
HOOKS = ("pvgen-fmt", "pvgen-check", "pvgen-generate-check")

SPEC = """abi demo {
    version 1;
    stability internal;
}

target x86_64 {
    data_model lp64;
}

/// Interrupt-flag operations.
table pv_irq_ops {
    /// Halts the CPU until the next interrupt.
    void halt();
}

backend native default;
"""


def git(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@dataclass
class Project:
    folder: Path
    env: dict[str, str]

    def pre_commit(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PRE_COMMIT), *args],
            cwd=self.folder,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def pvgen(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "pvgen", *args], cwd=self.folder, check=True, env=self.env
        )


def copy_of_this_tree(dest: Path) -> str:
    """A git repository holding this tree's files (tracked and new, not ignored); its commit."""
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            os.symlink(os.readlink(source), dest / name)
        elif source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    git("init", "-q", cwd=dest)
    git("add", "-A", cwd=dest)
    git("commit", "-q", "-m", "pvgen", cwd=dest)
    return git("rev-parse", "HEAD", cwd=dest).strip()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    if not (WHEELHOUSE / ".complete").exists():
        pytest.fail("tests/.wheels is missing: 'make test' fetches the dependencies' wheels")
    base = tmp_path_factory.mktemp("pre-commit")
    hooks_repo = base / "pvgen"
    rev = copy_of_this_tree(hooks_repo)
    folder = base / "kernel"
    (folder / "include" / "pv").mkdir(parents=True)
    (folder / "include" / "pv" / "demo.pvspec").write_text(SPEC, encoding="utf-8")
    (folder / "pvgen.toml").write_text(
        'specs = ["include/pv/demo.pvspec"]\nout = "generated"\n', encoding="utf-8"
    )
    hooks = "".join(f"      - id: {h}\n" for h in HOOKS)
    (folder / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {hooks_repo}\n    rev: {rev}\n    hooks:\n{hooks}", encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PRE_COMMIT"))}
    env.update(
        PRE_COMMIT_HOME=str(base / "cache"),
        PIP_NO_INDEX="1",
        VIRTUALENV_NO_PERIODIC_UPDATE="1",
        PIP_FIND_LINKS=str(WHEELHOUSE),
        PVGEN_CACHE_DIR=str(base / "pvgen-cache"),
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@localhost",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@localhost",
    )
    result = Project(folder, env)
    result.pvgen("generate")
    git("init", "-q", cwd=folder)
    git("add", "-A", cwd=folder)
    git("commit", "-q", "-m", "start", cwd=folder)
    installed = result.pre_commit("install-hooks")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return result


def test_a_clean_project_passes_every_hook(project: Project) -> None:
    result = project.pre_commit("run", "--all-files")
    assert result.returncode == 0, result.stdout
    for name in ("pvgen fmt", "pvgen check", "pvgen generate --check"):
        assert f"{name}" in result.stdout
    assert "Failed" not in result.stdout


def test_fmt_hook_rewrites_an_untidy_spec(project: Project) -> None:
    spec = project.folder / "include" / "pv" / "demo.pvspec"
    spec.write_text(SPEC.replace("    void halt();", "void   halt( ) ;"), encoding="utf-8")
    result = project.pre_commit("run", "pvgen-fmt", "--files", "include/pv/demo.pvspec")
    assert result.returncode == 1
    assert "files were modified by this hook" in result.stdout
    assert spec.read_text(encoding="utf-8") == SPEC
    assert project.pre_commit("run", "pvgen-fmt", "--all-files").returncode == 0


def test_check_hook_fails_on_an_error(project: Project) -> None:
    spec = project.folder / "include" / "pv" / "demo.pvspec"
    spec.write_text(SPEC + "backend xen { pv_irq_ops: halt; }\n", encoding="utf-8")
    try:
        result = project.pre_commit("run", "pvgen-check", "--all-files")
        assert result.returncode == 1
        assert "error[PV103]" in result.stdout
    finally:
        spec.write_text(SPEC, encoding="utf-8")


def test_generate_check_hook_fails_on_stale_outputs(project: Project) -> None:
    spec = project.folder / "include" / "pv" / "demo.pvspec"
    changed = SPEC.replace(
        "    void halt();\n",
        "    void halt();\n\n    /// Halts the CPU for good.\n    void shutdown();\n",
    )
    spec.write_text(changed, encoding="utf-8")
    try:
        result = project.pre_commit("run", "pvgen-generate-check", "--all-files")
        assert result.returncode == 1
        assert "out of date; run 'pvgen generate'" in result.stdout
        project.pvgen("generate")
        assert project.pre_commit("run", "--all-files").returncode == 0
    finally:
        spec.write_text(SPEC, encoding="utf-8")
        project.pvgen("generate")


def test_installed_hook_blocks_a_commit(project: Project) -> None:
    assert project.pre_commit("install").returncode == 0
    spec = project.folder / "include" / "pv" / "demo.pvspec"
    tidy = SPEC.replace(
        "    void halt();\n", "    void halt();\n\n    /// Waits.\n    void wait();\n"
    )
    spec.write_text(tidy.replace("    void wait();", "void   wait( );"), encoding="utf-8")
    git("add", "-A", cwd=project.folder)
    commit = subprocess.run(
        ["git", "commit", "-q", "-m", "untidy"],
        cwd=project.folder,
        env=project.env,
        capture_output=True,
        text=True,
    )
    assert commit.returncode != 0
    output = commit.stdout + commit.stderr
    assert "files were modified by this hook" in output
    assert "out of date; run 'pvgen generate'" in output
    assert spec.read_text(encoding="utf-8") == tidy  # the hook tidied it
    project.pvgen("generate")
    git("add", "-A", cwd=project.folder)
    git("commit", "-q", "-m", "tidy", cwd=project.folder, env=project.env)
    assert "tidy" in git("log", "--oneline", "-1", cwd=project.folder)
