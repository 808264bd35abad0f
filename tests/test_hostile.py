"""Hostile input and faults: mutated specs, resource limits, killed and starved writers.

Every run must end in success or a clean error with a location (exit 0, 1 or 2, no
traceback), and the output tree must never be left torn.
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PREAMBLE, ROOT, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

CONTRACT = ROOT / "tests" / "specs" / "contract"
SPEC = (CONTRACT / "paravirt.pvspec").read_bytes()
# `make fuzz` raises this for a long run.
EXAMPLES = int(os.environ.get("PVGEN_FUZZ_EXAMPLES", "150"))
TOKENS = [
    b"{",
    b"}",
    b";",
    b"(",
    b")",
    b"@if(",
    b"@hot",
    b"table",
    b"*",
    b"u32",
    b'"',
    b"///",
    b"/*",
    b"\xff",
    b"\x00",
    b"99999999999999999999",
    b'include "x.pvspec";',
    b"!",
    b"&&",
]


def assert_clean_exit(folder: Path, *args: str) -> None:
    result = run_cli(*args, cwd=folder)
    assert result.status in (0, 1, 2), result.err
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    if result.status == 1 and "--format" not in args:
        # An error names a place: file:line:col, or the command and its subject.
        assert ":" in result.err.splitlines()[0], result.err


@pytest.fixture(scope="module")
def fuzz_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copy(CONTRACT / "mm_types.pvspec", folder)
    return folder


mutation = st.lists(
    st.tuples(
        st.sampled_from(["delete", "duplicate", "swap", "insert", "truncate"]),
        st.integers(0, len(SPEC) - 1),
        st.integers(1, 40),
        st.sampled_from(TOKENS),
    ),
    min_size=1,
    max_size=4,
)


def mutate(data: bytes, steps: list[tuple[str, int, int, bytes]]) -> bytes:
    out = bytearray(data)
    for op, at, length, token in steps:
        at = at % max(1, len(out))
        end = min(len(out), at + length)
        if op == "delete":
            del out[at:end]
        elif op == "duplicate":
            out[at:at] = out[at:end]
        elif op == "swap":
            other = (at * 7 + length) % max(1, len(out))
            out[at:end], out[other : other + (end - at)] = (
                out[other : other + (end - at)],
                out[at:end],
            )
        elif op == "insert":
            out[at:at] = token
        else:
            del out[at:]
    return bytes(out)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=mutation)
def test_mutated_specs_end_cleanly(
    fuzz_folder: Path, steps: list[tuple[str, int, int, bytes]]
) -> None:
    (fuzz_folder / "paravirt.pvspec").write_bytes(mutate(SPEC, steps))
    assert_clean_exit(fuzz_folder, "check", "paravirt.pvspec")
    assert_clean_exit(fuzz_folder, "generate", "paravirt.pvspec", "--out", "out", "--force")
    assert_clean_exit(fuzz_folder, "fmt", "--diff", "paravirt.pvspec")


# ---- mutated file trees: names, links and special files ---------------------------------

# Characters of generated file names: plain ones, and those no output may carry raw.
NAME_CHARS = "ab_.-" + "\r\n\t\x1b\x07\x7f\x85\u2028\u202e\u2066\udcff"
file_name = st.text(alphabet=NAME_CHARS, min_size=1, max_size=6).filter(
    lambda n: n not in (".", "..") and "/" not in n
)
tree_entry = st.tuples(
    file_name,
    st.sampled_from(["spec", "link-inside", "link-outside", "link-loop", "fifo", "folder"]),
)


def _make_entry(folder: Path, outside: Path, name: str, kind: str) -> str | None:
    """Create one entry named `name` (plus '.pvspec'); returns its name, or None when the
    file system refuses that name."""
    path = os.path.join(os.fsencode(folder), os.fsencode(name + ".pvspec"))
    try:
        if kind == "spec":
            with open(path, "xb") as f:
                f.write(b"typedef u32 t_" + str(abs(hash(name)) % 1000).encode() + b";\n")
        elif kind == "link-inside":
            os.symlink(b"a.pvspec", path)
        elif kind == "link-outside":
            os.symlink(os.fsencode(outside), path)
        elif kind == "link-loop":
            os.symlink(os.path.basename(path), path)
        elif kind == "fifo":
            os.mkfifo(path)
        else:
            os.mkdir(path)
    except (OSError, UnicodeEncodeError):
        return None
    return name + ".pvspec"


def _assert_clean_everywhere(folder: Path, *args: str) -> None:
    result = run_cli(*args, cwd=folder)
    assert result.status in (0, 1, 2), result.err
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    raw = [c for c in result.err if c not in "\n\t" and (c < " " or "\x7f" <= c <= "\x9f")]
    raw += [c for c in result.err if c in "\u2028\u2029\u202e\u2066" or "\ud800" <= c <= "\udfff"]
    assert not raw, result.err


@settings(
    max_examples=max(10, EXAMPLES // 10),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(entries=st.lists(tree_entry, min_size=1, max_size=5))
def test_mutated_file_trees_end_cleanly(entries: list[tuple[str, str]]) -> None:
    """Specs that include generated file names (control and bidirectional characters,
    bytes that are not UTF-8), through links inside, outside and in loops, FIFOs and
    folders: check, generate and fmt end cleanly, hang on nothing, print no raw control
    character and write nothing through a link or outside the output folder."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        folder = base / "specs"
        folder.mkdir()
        outside = base / "secret.pvspec"
        outside.write_text("typedef u32 secret_t;\n")
        (folder / "a.pvspec").write_text("typedef u32 a_t;\n")
        names = [n for n, kind in entries if _make_entry(folder, outside, n, kind)]
        includes = "".join(
            'include "' + n.replace("\\", "\\\\").replace('"', '\\"') + '.pvspec";\n'
            for n in names
            if "\n" not in n and "\udcff" not in n
        )
        root = folder / "root.pvspec"
        root.write_text(
            PREAMBLE + 'include "a.pvspec";\n' + includes + "/// T.\ntable t { u32 f(a_t x); }\n"
            "backend native default;\n"
        )
        _assert_clean_everywhere(base, "check", "specs/root.pvspec")
        _assert_clean_everywhere(base, "generate", "specs/root.pvspec", "--out", "out")
        _assert_clean_everywhere(base, "fmt", "--check", "specs")
        _assert_clean_everywhere(base, "fmt", "specs")
        assert outside.read_text() == "typedef u32 secret_t;\n"
        for written in (base / "out").rglob("*") if (base / "out").exists() else ():
            assert not written.is_symlink()
            if written.suffix == ".py":
                assert b"\r" not in written.read_bytes()


def test_truncation_at_every_position(tmp_path: Path) -> None:
    small = (
        PREAMBLE
        + "/// T.\ntable t { @hot(callsites = 5) u32 f(u32 *p); }\nbackend native default;\n"
    ).encode()
    for end in range(len(small) + 1):
        (tmp_path / "a.pvspec").write_bytes(small[:end])
        assert_clean_exit(tmp_path, "check", "a.pvspec")


# ---- resource limits ---------------------------------------------------------------------

LIMIT_PREAMBLE = "abi demo { version 1; }\ntarget t { data_model lp64; defines A; }\n"


def test_ten_thousand_nested_parentheses_succeed(tmp_path: Path) -> None:
    (tmp_path / "a.pvspec").write_text(
        LIMIT_PREAMBLE + "@if(" + "(" * 10_000 + "A" + ")" * 10_000 + ") typedef u32 x;\n"
    )
    result = run_cli("check", "--no-rules", "a.pvspec", cwd=tmp_path)
    assert result.status == 0, result.err


def test_deeply_nested_condition_stops_with_a_limit_error(tmp_path: Path) -> None:
    (tmp_path / "a.pvspec").write_text(
        LIMIT_PREAMBLE + "@if(" + "!(A && " * 5_000 + "A" + ")" * 5_000 + ") typedef u32 x;\n"
    )
    result = run_cli("check", "a.pvspec", cwd=tmp_path)
    assert result.status == 1
    assert result.err.startswith("a.pvspec:3:")
    assert "condition nests more than 100 levels deep" in result.err.splitlines()[0]


def test_fifty_megabyte_spec_stops_with_a_limit_error(tmp_path: Path) -> None:
    spec = tmp_path / "a.pvspec"
    with spec.open("wb") as f:
        f.truncate(50 * 1024 * 1024)  # sparse: the size is what is checked, before reading
    result = run_cli("check", "a.pvspec", cwd=tmp_path)
    assert result.status == 2
    assert "is 50.0 MiB, over pvgen's limit of 16 MiB per spec file" in result.err


def test_includes_a_thousand_deep_stop_with_a_limit_error(tmp_path: Path) -> None:
    (tmp_path / "f0.pvspec").write_text(LIMIT_PREAMBLE + 'include "f1.pvspec";\n')
    for i in range(1, 1000):
        (tmp_path / f"f{i}.pvspec").write_text(f'include "f{i + 1}.pvspec";\n')
    (tmp_path / "f1000.pvspec").write_text("typedef u32 x;\n")
    result = run_cli("check", "f0.pvspec", cwd=tmp_path)
    assert result.status == 1
    assert "error: includes nest deeper than 64 files" in result.err


# ---- the writer under faults -------------------------------------------------------------


def versions(folder: Path) -> tuple[Path, Path]:
    """Two specs whose outputs differ in every file."""
    shutil.copytree(CONTRACT, folder / "a")
    shutil.copytree(CONTRACT, folder / "b")
    spec_b = folder / "b" / "paravirt.pvspec"
    text = spec_b.read_text().replace("version 3;", "version 4;").replace("mm_struct", "mm_area")
    spec_b.write_text(text + "\n/// Another.\nbackend lguest { pv_irq_ops: safe_halt; }\n")
    return folder / "a" / "paravirt.pvspec", spec_b


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def restore(root: Path, files: dict[str, bytes]) -> None:
    shutil.rmtree(root, ignore_errors=True)
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)


def pvgen(*args: str, **kwargs: object) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PVGEN_NO_CACHE="1")  # a full run each time: more moments to kill it
    return subprocess.Popen(
        [sys.executable, "-m", "pvgen", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        **kwargs,  # type: ignore[call-overload]
    )


def test_killed_generate_leaves_every_file_old_or_new(tmp_path: Path) -> None:
    spec_a, spec_b = versions(tmp_path)
    out = tmp_path / "out"
    assert pvgen("generate", str(spec_a), "--out", str(out)).wait() == 0
    old = snapshot(out)
    started = time.perf_counter()
    assert pvgen("generate", str(spec_b), "--out", str(tmp_path / "new")).wait() == 0
    # Kills land across the whole run, writes included, however loaded the machine is:
    # the window follows how long an uninterrupted run has just taken.
    full_run = time.perf_counter() - started
    new = snapshot(tmp_path / "new")
    assert old.keys() <= new.keys() and all(old[k] != new[k] for k in old if k in new)
    rng = random.Random(7)
    outcomes = set()
    for trial in range(50):
        restore(out, old)
        proc = pvgen("generate", str(spec_b), "--out", str(out))
        time.sleep(rng.uniform(0.3, 1.1) * full_run)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = snapshot(out)
        for name, content in now.items():
            if ".pvgen-tmp-" in name:
                continue  # a temporary file of the killed run: cleaned by the next run
            assert content in (old.get(name), new.get(name)), name
        outcomes.add(sum(now.get(k) == v for k, v in new.items()))
        if trial % 5 == 0:
            started = time.perf_counter()
            assert pvgen("generate", str(spec_b), "--out", str(out)).wait() == 0
            full_run = time.perf_counter() - started
            assert snapshot(out) == new  # repaired, and no temporary file left
    assert len(outcomes) > 1, "the kills should land at different moments"


def test_disk_full_gives_a_clear_error_and_keeps_the_tree(tmp_path: Path) -> None:
    spec_a, spec_b = versions(tmp_path)
    out = tmp_path / "out"
    assert pvgen("generate", str(spec_b), "--out", str(tmp_path / "new")).wait() == 0
    new = snapshot(tmp_path / "new")
    assert pvgen("generate", str(spec_a), "--out", str(out)).wait() == 0
    before = snapshot(out)

    def small_files() -> None:
        # Writes past 1 KiB fail as on a full disk (EFBIG instead of ENOSPC).
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    proc = pvgen("generate", str(spec_b), "--out", str(out), preexec_fn=small_files)
    _, err = proc.communicate()
    assert proc.returncode == 2
    assert b"pvgen: error: cannot write" in err and b"Traceback" not in err
    after = snapshot(out)
    assert after.keys() == before.keys()  # nothing removed, no temporary file left behind
    for name, content in after.items():
        assert content in (before[name], new.get(name)), name


def test_hostile_text_reaches_no_output_raw(tmp_path: Path) -> None:
    """Doc comments and annotation strings with comment closers, preprocessor lines,
    backslashes, NUL, bidirectional overrides and a 10,000-character line: the C still
    compiles, the Python still imports, and none of it escapes its comment or string."""
    long_line = "x" * 10_000
    spec = tmp_path / "h.pvspec"
    spec.write_text(
        "abi h { version 1; }\ntarget t { data_model lp64; }\n"
        f"/// */ #endif \\\\ \u202e{long_line}\n"
        "table ops {\n"
        "    /// \"\"\" ''' */ /* #define X 1\n"
        '    @patch(native = "cli\\x00 */ #endif \\\\", clobbers = "\\n")\n'
        "    u32 f(u32 x);\n"
        "}\n"
        "backend native default;\n",
        encoding="utf-8",
    )
    result = run_cli("generate", "h.pvspec", "--out", "out", cwd=tmp_path)
    assert result.status == 0, result.err
    header = tmp_path / "out/h/c/h.h"
    text = header.read_text()
    assert "\u202e" not in text and "\0" not in text
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            assert "endif" not in line or line.strip() in ("#endif",) or line.startswith("#endif")
    probe = tmp_path / "probe.c"
    probe.write_text('#include "out/h/c/h.h"\nint main(void) { return 0; }\n')
    if shutil.which("gcc"):
        compiled = subprocess.run(
            [
                "gcc",
                "-std=c11",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-pedantic",
                "-fsyntax-only",
                str(probe),
            ],
            capture_output=True,
            text=True,
        )
        assert compiled.returncode == 0, compiled.stderr
    imported = subprocess.run(
        [sys.executable, "-c", "import sys; sys.path.insert(0, 'out/h/python'); import h.backends"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert imported.returncode == 0, imported.stderr
