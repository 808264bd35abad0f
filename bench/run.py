"""The benchmark suite: `make bench`.

Each figure is the median wall time of several runs of a real `pvgen`
process after one warm-up run, next to floors measured in the same run
(`python -c pass`, `python -c "import lark"`, `python -c "import lark, jinja2"`),
with the peak resident memory of the process. Results go to
bench/results.json and bench/results.md, and the table is printed.

Inputs: the reference spec, and synthetic specs of 1,000 and 10,000 hooks
written by bench/synth.py (tables of 100, ten backends).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work"
sys.path.insert(0, str(HERE))

from synth import (  # noqa: E402
    edit_one_hook,
    synth_header,
    synth_proto,
    synth_spec,
    synth_split,
    synth_wayland,
)


@dataclass
class Figure:
    name: str
    median_s: float
    runs: int
    peak_rss_mb: float
    command: str


# GNU time reports the peak memory of the process it runs. The peak that os.wait4 reports
# for a child includes what this (larger) process held when the child was started, because
# the high-water mark is carried over an exec; a small process in between keeps it honest.
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def measure(
    name: str,
    argv: list[str],
    runs: int,
    *,
    cache: bool = True,
    prepare: Callable[[], None] | None = None,
) -> Figure:
    """Median wall time of `argv` over `runs` runs after a warm-up, and its peak RSS (taken
    in the warm-up, under GNU time where it is installed).

    With `cache=False` pvgen's compiled-spec cache is off, so every run parses.
    """
    env = dict(os.environ, PVGEN_CACHE_DIR=str(WORK / "cache"))
    if not cache:
        env["PVGEN_NO_CACHE"] = "1"
    times: list[float] = []
    peak_kb = 0
    for attempt in range(runs + 1):
        if prepare is not None:
            prepare()  # not timed
        peak_file = WORK / ".peak" if attempt == 0 and GNU_TIME else None
        command = [GNU_TIME, "-f", "%M", "-o", str(peak_file), *argv] if peak_file else argv
        start = time.perf_counter()
        # Output goes to a file, not a pipe: a pipe nobody reads would block
        # a run that reports many findings.
        with tempfile.TemporaryFile() as errors:
            proc = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=errors
            )
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - start
            code = os.waitstatus_to_exitcode(status)
            if code not in (0, 1, 4, 12):
                errors.seek(0)
                detail = errors.read().decode(errors="replace")
                raise SystemExit(f"{name}: {' '.join(argv)} exited {code}\n{detail}")
        if peak_file is not None:
            peak_kb = int(peak_file.read_text().split()[-1])
        elif GNU_TIME is None:
            peak_kb = max(peak_kb, usage.ru_maxrss)
        if attempt:  # the first run warms caches and is not counted
            times.append(elapsed)
    shown = " ".join(Path(a).name if a == sys.executable else a for a in argv)
    return Figure(name, statistics.median(times), runs, peak_kb / 1024, shown)


def measure_generate(pvgen: list[str], big: Path, runs: int) -> list[Figure]:
    """Generation into an empty folder (with and without the compiled-spec cache) and
    no-op regeneration (nothing changed)."""
    cold = WORK / "gen_cold"
    noop = WORK / "gen_noop"

    def empty() -> None:
        shutil.rmtree(cold, ignore_errors=True)

    reference = ["generate", "specs/paravirt.pvspec"]
    figures = [
        measure(
            "generate reference spec, cold",
            [*pvgen, *reference, "--out", str(cold)],
            runs,
            prepare=empty,
        ),
        measure(
            "generate reference spec, cold, no cache",
            [*pvgen, *reference, "--out", str(cold)],
            runs,
            cache=False,
            prepare=empty,
        ),
        measure(
            "generate 10,000 hooks, cold, no cache",
            [*pvgen, "generate", str(big), "--out", str(cold)],
            runs,
            cache=False,
            prepare=empty,
        ),
    ]
    shutil.rmtree(noop, ignore_errors=True)  # start from pvgen's own files only
    subprocess.run(
        [*pvgen, *reference, "--out", str(noop)], cwd=ROOT, check=True, capture_output=True
    )
    figures.append(
        measure("generate reference spec, no-op", [*pvgen, *reference, "--out", str(noop)], runs)
    )
    return figures


def measure_authoring(pvgen: list[str], big: Path, runs: int) -> list[Figure]:
    """`pvgen fmt --check` on tidy specs (what CI runs) and on an untidy one, and
    `pvgen import` of a test header and of a synthetic 10,000-hook header."""
    untidy = WORK / "untidy_10000.pvspec"
    untidy.write_text(big.read_text(encoding="utf-8").replace("    ", "\t"), encoding="utf-8")
    header = WORK / "synth_10000.h"
    header.write_text(synth_header(10_000), encoding="utf-8")
    return [
        measure("fmt --check reference spec", [*pvgen, "fmt", "--check", "specs"], runs),
        measure("fmt --check 10,000 hooks", [*pvgen, "fmt", "--check", str(big)], runs),
        measure(
            "fmt --diff 10,000 hooks, every line to re-indent",
            [*pvgen, "fmt", "--diff", str(untidy)],
            runs,
        ),
        measure(
            "import tests/import/x86_paravirt.h",
            [*pvgen, "import", "tests/import/x86_paravirt.h"],
            runs,
        ),
        measure("import a 10,000-hook header", [*pvgen, "import", str(header)], runs),
    ]


def measure_diff(pvgen: list[str], big: Path, runs: int) -> Figure:
    """Diff of two 10,000-hook dumps whose return types differ in 1% of the hooks."""
    changed = WORK / "synth_10000_changed.pvspec"
    text = big.read_text(encoding="utf-8")
    # Every hook numbered 050 of its table (one in a hundred) gets another return type.
    text = re.sub(r"\n    \S+ (hook_\d{4}_050)\(", r"\n    s16 \1(", text)
    changed.write_text(text.replace("version 1;", "version 2;"), encoding="utf-8")
    dumps = []
    for spec in (big, changed):
        out = WORK / f"{spec.stem}.json"
        with out.open("w") as f:
            subprocess.run([*pvgen, "dump", str(spec)], cwd=ROOT, check=True, stdout=f)
        dumps.append(str(out))
    return measure("diff two 10,000-hook dumps, 1% changed", [*pvgen, "diff", *dumps], runs)


def measure_incremental(pvgen: list[str], runs: int) -> tuple[list[Figure], dict[str, object]]:
    """A large ABI as it is edited: 10,000 hooks in a root and ten included files of ten
    tables each, one hook's return type changed in one file before every timed run (the
    edit alternates between two texts, so every run sees a change). Also: the same ABI
    with nothing changed, and cold (no cache). Returns the figures, and how many of the
    outputs a generate after an edit writes."""
    folder = WORK / "split"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name, text in synth_split(10_000).items():
        (folder / name).write_text(text, encoding="utf-8")
    root = folder / "root.pvspec"
    edited = folder / "tables_03.pvspec"
    out = WORK / "split_out"
    shutil.rmtree(out, ignore_errors=True)

    def edit() -> None:
        edited.write_text(edit_one_hook(edited.read_text(encoding="utf-8")), encoding="utf-8")

    def empty() -> None:
        shutil.rmtree(out, ignore_errors=True)

    check = [*pvgen, "check", str(root)]
    generate = [*pvgen, "generate", str(root), "--out", str(out)]
    figures = [
        measure("11 files: check, cold, no cache", check, runs, cache=False),
        measure("11 files: generate, cold, no cache", generate, runs, cache=False, prepare=empty),
        measure("11 files: check, nothing changed", check, runs),
        measure("11 files: generate, nothing changed", generate, runs),
        measure("11 files: check after a one-hook edit", check, runs, prepare=edit),
        measure("11 files: generate after a one-hook edit", generate, runs, prepare=edit),
    ]
    edit()
    env = dict(os.environ, PVGEN_CACHE_DIR=str(WORK / "cache"))
    report = subprocess.run(generate, cwd=ROOT, env=env, capture_output=True, text=True).stdout
    found = re.search(r"(\d+) written, (\d+) unchanged", report)
    written: dict[str, object] = (
        {"written": int(found[1]), "unchanged": int(found[2])} if found else {}
    )
    return figures, written


def measure_large(pvgen: list[str], runs: int) -> list[Figure]:
    """100,000 hooks (one file), cold: check and generate, time and peak memory."""
    big = WORK / "synth_100000.pvspec"
    big.write_text(synth_spec(100_000), encoding="utf-8")
    out = WORK / "gen_100000"

    def empty() -> None:
        shutil.rmtree(out, ignore_errors=True)

    return [
        measure("check 100,000 hooks, no cache", [*pvgen, "check", str(big)], runs, cache=False),
        measure(
            "generate 100,000 hooks, cold, no cache",
            [*pvgen, "generate", str(big), "--out", str(out)],
            runs,
            cache=False,
            prepare=empty,
        ),
    ]


PEER_SIZES = (100, 1_000, 10_000, 100_000)


def measure_peers(
    pvgen: list[str], runs: int, known: dict[int, Figure] | None = None
) -> dict[str, object]:
    """Time per hook of pvgen generate and of peer generators on equivalent inputs.

    The inputs come from bench/synth.py, so each peer sees the same tables, hooks and
    argument types. A peer that is not installed is skipped with a note.
    """
    rows: list[dict[str, object]] = []
    notes: list[str] = []
    scanner = shutil.which("wayland-scanner")
    try:
        import grpc_tools  # noqa: F401

        protoc = True
    except ImportError:
        protoc = False
    if scanner is None:
        notes.append("wayland-scanner not installed (Debian package libwayland-bin): skipped")
    if not protoc:
        notes.append("grpc_tools not installed (Python package grpcio-tools): skipped")
    out = WORK / "peer_out"

    def empty() -> None:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)

    for hooks in PEER_SIZES:
        if hooks >= 100_000:
            runs = min(runs, 3)  # a run of the slowest peer takes most of a minute
        spec = WORK / f"peer_{hooks}.pvspec"
        spec.write_text(synth_spec(hooks), encoding="utf-8")
        # The same generate of the same spec may have been measured already (100,000 hooks).
        figure = (known or {}).get(hooks) or measure(
            f"pvgen generate {hooks:,} hooks",
            [*pvgen, "generate", str(spec), "--out", str(out)],
            runs,
            cache=False,
            prepare=empty,
        )
        row: dict[str, object] = {
            "hooks": hooks,
            "pvgen_s": figure.median_s,
            "pvgen_us_per_hook": figure.median_s / hooks * 1e6,
        }
        if scanner is not None:
            xml = WORK / f"peer_{hooks}.xml"
            xml.write_text(synth_wayland(hooks), encoding="utf-8")
            both = (
                f"{scanner} client-header {xml} {out}/c.h && {scanner} private-code {xml} {out}/c.c"
            )
            peer = measure(f"wayland-scanner {hooks:,}", ["sh", "-c", both], runs, prepare=empty)
            row["wayland_scanner_s"] = peer.median_s
            row["wayland_scanner_us_per_hook"] = peer.median_s / hooks * 1e6
        if protoc:
            proto = WORK / f"peer_{hooks}.proto"
            proto.write_text(synth_proto(hooks), encoding="utf-8")
            command = [
                sys.executable,
                "-m",
                "grpc_tools.protoc",
                f"-I{WORK}",
                f"--python_out={out}",
                f"--grpc_python_out={out}",
                str(proto),
            ]
            peer = measure(f"protoc {hooks:,}", command, runs, prepare=empty)
            row["protoc_s"] = peer.median_s
            row["protoc_us_per_hook"] = peer.median_s / hooks * 1e6
        rows.append(row)
    return {"rows": rows, "notes": notes}


def measure_guest() -> dict[str, object]:
    """The simulated guest: hook calls per second through the generated dispatch and
    directly, their ratio (target at most 1.15x), and xen's hypercalls on fork with and
    without the lazy-MMU bracket. Measured in this process: the figures are call rates."""
    from pvgen.guest.bench import dispatch_overhead

    return dispatch_overhead().as_dict()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    parser = argparse.ArgumentParser(description="Run pvgen's benchmarks.")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per figure (default 7)")
    args = parser.parse_args()

    WORK.mkdir(exist_ok=True)
    (WORK / "cache").mkdir(mode=0o700, exist_ok=True)
    # An installed package comes with compiled bytecode (pip compiles it); a
    # checkout run with PYTHONDONTWRITEBYTECODE would recompile pvgen on every
    # start, which measures the environment, not pvgen.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "pvgen")], check=True)
    synthetic = {}
    for hooks in (1_000, 10_000):
        path = WORK / f"synth_{hooks}.pvspec"
        path.write_text(synth_spec(hooks), encoding="utf-8")
        synthetic[hooks] = path

    py = sys.executable
    pvgen = [py, "-m", "pvgen"]
    figures = [
        measure("floor: python -c pass", [py, "-c", "pass"], args.runs),
        measure("floor: import lark", [py, "-c", "import lark"], args.runs),
        measure("floor: import lark, jinja2", [py, "-c", "import lark, jinja2"], args.runs),
        measure("check reference spec", [*pvgen, "check", "specs/paravirt.pvspec"], args.runs),
        measure(
            "check reference spec, no cache",
            [*pvgen, "check", "specs/paravirt.pvspec"],
            args.runs,
            cache=False,
        ),
    ]
    for hooks, path in synthetic.items():
        figures.append(
            measure(
                f"check {hooks:,} hooks, no cache",
                [*pvgen, "check", str(path)],
                args.runs,
                cache=False,
            )
        )
    figures.append(
        measure(
            "parse and resolve 10,000 hooks (--no-rules), no cache",
            [*pvgen, "check", "--no-rules", str(synthetic[10_000])],
            args.runs,
            cache=False,
        )
    )
    figures += measure_generate(pvgen, synthetic[10_000], args.runs)
    incremental, edit_writes = measure_incremental(pvgen, args.runs)
    figures += incremental
    large = measure_large(pvgen, min(args.runs, 3))
    figures += large
    figures += measure_authoring(pvgen, synthetic[10_000], args.runs)
    peers = measure_peers(pvgen, args.runs, {100_000: large[1]})
    guest = measure_guest()
    figures.append(measure_diff(pvgen, synthetic[10_000], args.runs))
    by_name = {f.name: f.median_s for f in figures}
    floor = by_name["floor: import lark"]
    ratios = {
        "check reference / import lark floor": by_name["check reference spec"] / floor,
        "check reference, no cache / import lark floor": by_name["check reference spec, no cache"]
        / floor,
        "check 10,000 / 1,000 hooks, no cache": by_name["check 10,000 hooks, no cache"]
        / by_name["check 1,000 hooks, no cache"],
        "check with rules / parse and resolve alone, 10,000 hooks": by_name[
            "check 10,000 hooks, no cache"
        ]
        / by_name["parse and resolve 10,000 hooks (--no-rules), no cache"],
        "generate reference / import lark, jinja2 floor": by_name["generate reference spec, cold"]
        / by_name["floor: import lark, jinja2"],
        "no-op generate / check, reference spec": by_name["generate reference spec, no-op"]
        / by_name["check reference spec"],
        "check 100,000 / 10,000 hooks, no cache": by_name["check 100,000 hooks, no cache"]
        / by_name["check 10,000 hooks, no cache"],
        "generate 100,000 / 10,000 hooks, cold, no cache": by_name[
            "generate 100,000 hooks, cold, no cache"
        ]
        / by_name["generate 10,000 hooks, cold, no cache"],
        "11 files: check after an edit / check cold": by_name[
            "11 files: check after a one-hook edit"
        ]
        / by_name["11 files: check, cold, no cache"],
        "11 files: generate after an edit / generate cold": by_name[
            "11 files: generate after a one-hook edit"
        ]
        / by_name["11 files: generate, cold, no cache"],
    }
    results = {
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d"),
        "figures": [asdict(f) for f in figures],
        "ratios": ratios,
        "peers": peers,
        "guest": guest,
        "edit_writes": edit_writes,
    }
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    table = render_markdown(results)
    (HERE / "results.md").write_text(table, encoding="utf-8")
    print(table)


def render_markdown(results: dict) -> str:  # type: ignore[type-arg]
    lines = [
        f"Machine: {results['machine']}; {results['date']}; median of"
        f" {results['figures'][0]['runs']} runs after a warm-up.",
        "",
        "| figure | median | peak memory |",
        "|---|---:|---:|",
    ]
    for f in results["figures"]:
        lines.append(f"| {f['name']} | {f['median_s'] * 1000:.0f} ms | {f['peak_rss_mb']:.0f} MB |")
    lines += ["", "| ratio | value |", "|---|---:|"]
    for name, value in results["ratios"].items():
        lines.append(f"| {name} | {value:.2f}x |")
    peers = results.get("peers", {"rows": [], "notes": []})
    lines += [
        "",
        "Time per hook, generating from equivalent inputs (microseconds per hook):",
        "",
        "| hooks | pvgen generate | wayland-scanner (header + code) | protoc (python + grpc) |",
        "|---:|---:|---:|---:|",
    ]
    for row in peers["rows"]:
        cells = [
            f"{row[key]:.0f}" if key in row else "skipped"
            for key in ("pvgen_us_per_hook", "wayland_scanner_us_per_hook", "protoc_us_per_hook")
        ]
        lines.append(f"| {row['hooks']:,} | " + " | ".join(cells) + " |")
    lines += [f"\nNote: {note}" for note in peers["notes"]]
    lines += _comparison(results)
    guest = results.get("guest")
    if guest:
        lines += [
            "",
            "Simulated guest (calls per second; ratio = time through the dispatch object / direct"
            " call on the backend):",
            "",
            "| hook | through dispatch | direct | ratio |",
            "|---|---:|---:|---:|",
            f"| save_fl (does work) | {guest['dispatch_calls_per_second']:,.0f}"
            f" | {guest['direct_calls_per_second']:,.0f} | {guest['dispatch_ratio']:.2f}x |",
            f"| pte_val (empty body) | {guest['empty_hook_dispatch_calls_per_second']:,.0f}"
            f" | {guest['empty_hook_direct_calls_per_second']:,.0f}"
            f" | {guest['empty_hook_dispatch_ratio']:.2f}x |",
            "",
            f"xen on fork (size {int(guest['fork_size'])}):"
            f" {int(guest['xen_fork_hypercalls_lazy']):,}"
            f" hypercalls with the lazy-MMU bracket, {int(guest['xen_fork_hypercalls_eager']):,}"
            f" without ({guest['xen_fork_batching_factor']:.2f}x fewer).",
        ]
    return "\n".join(lines) + "\n"


def _comparison(results: dict) -> list[str]:  # type: ignore[type-arg]
    """Whole-process times of pvgen and its peers on the same tables, and the edit of one
    hook in a 10,000-hook ABI, where the peers (which have no incremental mode) regenerate
    everything."""
    by_name = {f["name"]: f["median_s"] for f in results["figures"]}
    rows = {row["hooks"]: row for row in results.get("peers", {}).get("rows", [])}

    def cell(row: dict | None, key: str) -> str:  # type: ignore[type-arg]
        return f"{row[key] * 1000:,.0f} ms" if row and key in row else "skipped"

    lines = [
        "",
        "Generating the same tables (whole process, median; C header and code for"
        " wayland-scanner, Python and gRPC stubs for protoc):",
        "",
        "| input | pvgen generate | wayland-scanner | protoc |",
        "|---|---:|---:|---:|",
    ]
    for hooks in (1_000, 10_000, 100_000):
        row = rows.get(hooks)
        lines.append(
            f"| {hooks:,} hooks, cold | {cell(row, 'pvgen_s')}"
            f" | {cell(row, 'wayland_scanner_s')} | {cell(row, 'protoc_s')} |"
        )
    edit = by_name.get("11 files: generate after a one-hook edit")
    if edit is not None:
        row = rows.get(10_000)
        lines.append(
            f"| 10,000 hooks in 11 files, one hook edited | {edit * 1000:,.0f} ms"
            f" | {cell(row, 'wayland_scanner_s')} (all again) | {cell(row, 'protoc_s')}"
            " (all again) |"
        )
    writes = results.get("edit_writes")
    if writes:
        lines.append(
            f"\nAfter the edit, pvgen wrote {writes['written']} of its outputs and left"
            f" {writes['unchanged']} unchanged."
        )
    return lines


if __name__ == "__main__":
    main()
