"""The compiled-spec cache: a hit gives the same model, any change is a miss."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import PREAMBLE, run_cli

MAIN = (
    PREAMBLE + 'include "types.pvspec";\ntable t { void f(word_t w); }\nbackend native default;\n'
)


def entries(cache: Path) -> list[Path]:
    """Every entry: the models, outputs and syntax trees."""
    return sorted(cache.glob("*.pickle"))


def models(cache: Path) -> list[Path]:
    return [p for p in entries(cache) if not p.name.startswith("parse-")]


def trees(cache: Path) -> list[Path]:
    return [p for p in entries(cache) if p.name.startswith("parse-")]


def test_the_model_is_kept_from_the_second_compile_and_then_read(write_specs, private_cache: Path) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs({"a.pvspec": MAIN, "types.pvspec": "typedef u32 word_t;\n"})
    first = run_cli("dump", "a.pvspec", cwd=folder)
    assert len(models(private_cache)) == 1
    assert len(trees(private_cache)) == 2  # one per file
    # The first compile of these sources leaves only a mark; the trees are kept.
    (mark,) = models(private_cache)
    marked = mark.stat().st_size
    tree_stamps = [p.stat().st_mtime_ns for p in trees(private_cache)]
    second = run_cli("dump", "a.pvspec", cwd=folder)
    assert second.out == first.out
    # The second compiles from the kept trees (read, not rewritten) and keeps the model.
    assert [p.stat().st_mtime_ns for p in trees(private_cache)] == tree_stamps
    assert mark.stat().st_size > marked
    stamps = [p.stat().st_mtime_ns for p in entries(private_cache)]
    third = run_cli("dump", "a.pvspec", cwd=folder)
    assert third.out == first.out
    # Read, not rewritten: the model was fresh, so no tree was even asked for.
    assert [p.stat().st_mtime_ns for p in entries(private_cache)] == stamps
    # An edit is a new state: compiled once, marked again, not kept.
    (folder / "types.pvspec").write_text("typedef u64 word_t;\n")
    assert '"target": "u64"' in run_cli("dump", "a.pvspec", cwd=folder).out
    assert mark.stat().st_size == marked


def test_an_edit_parses_only_the_edited_file(write_specs, private_cache: Path) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs({"a.pvspec": MAIN, "types.pvspec": "typedef u32 word_t;\n"})
    run_cli("dump", "a.pvspec", cwd=folder)
    before = {p.name: p.stat().st_mtime_ns for p in trees(private_cache)}
    (folder / "types.pvspec").write_text("typedef u64 word_t;\n")
    assert '"target": "u64"' in run_cli("dump", "a.pvspec", cwd=folder).out
    after = {p.name: p.stat().st_mtime_ns for p in trees(private_cache)}
    assert after.keys() == before.keys()  # one entry per file, replaced, not added
    changed = [name for name in after if after[name] != before[name]]
    assert len(changed) == 1  # the tree of types.pvspec; a.pvspec's was read back


def test_editing_an_included_file_is_seen(write_specs, private_cache: Path) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs({"a.pvspec": MAIN, "types.pvspec": "typedef u32 word_t;\n"})
    assert '"target": "u32"' in run_cli("dump", "a.pvspec", cwd=folder).out
    (folder / "types.pvspec").write_text("typedef u64 word_t;\n")
    assert '"target": "u64"' in run_cli("dump", "a.pvspec", cwd=folder).out
    (folder / "types.pvspec").write_text("typedef nope word_t;\n")
    result = run_cli("check", "a.pvspec", cwd=folder)
    assert result.status == 1 and "unknown type 'nope'" in result.err


def test_corrupt_entry_is_a_miss(write_specs, private_cache: Path) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs({"a.pvspec": MAIN, "types.pvspec": "typedef u32 word_t;\n"})
    expected = run_cli("dump", "a.pvspec", cwd=folder).out
    for entry in entries(private_cache):
        entry.write_bytes(b"not a pickle")
    assert run_cli("dump", "a.pvspec", cwd=folder).out == expected


def test_shared_folder_is_never_read(write_specs, private_cache: Path) -> None:  # type: ignore[no-untyped-def]
    folder = write_specs({"a.pvspec": MAIN, "types.pvspec": "typedef u32 word_t;\n"})
    expected = run_cli("dump", "a.pvspec", cwd=folder).out
    private_cache.chmod(0o777)  # others could have planted an entry
    for entry in entries(private_cache):
        entry.write_bytes(b"planted")
    assert run_cli("dump", "a.pvspec", cwd=folder).out == expected


def test_cache_can_be_turned_off(write_specs, private_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("PVGEN_NO_CACHE", "1")
    folder = write_specs({"a.pvspec": MAIN, "types.pvspec": "typedef u32 word_t;\n"})
    assert run_cli("check", "a.pvspec", cwd=folder).status == 0
    assert entries(private_cache) == []


def test_unwritable_cache_still_checks(write_specs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("")
    monkeypatch.setenv("PVGEN_CACHE_DIR", str(blocker / "cache"))
    folder = write_specs({"a.pvspec": MAIN, "types.pvspec": "typedef u32 word_t;\n"})
    assert run_cli("check", "a.pvspec", cwd=folder).status == 0
    assert os.path.isfile(blocker)


def test_hmac_sha256_agrees_with_the_standard_library() -> None:
    """The cache's own HMAC (it spares loading OpenSSL) gives hmac's digests, for keys
    shorter than, equal to and longer than SHA-256's block."""
    import hashlib
    import hmac
    import random

    from pvgen.digest import LARGE, LARGE_ONCE_LOADED, compare_digest, hmac_sha256, sha256

    rng = random.Random(5)
    for key_length in (0, 1, 32, 63, 64, 65, 200):
        for message_length in (0, 1, 64, 1000):
            key = rng.randbytes(key_length)
            message = rng.randbytes(message_length)
            expected = hmac.new(key, message, "sha256").digest()
            assert hmac_sha256(key, message) == expected
            assert compare_digest(hmac_sha256(key, message), expected)
    assert not compare_digest(hmac_sha256(b"k", b"m"), hmac_sha256(b"k", b"n"))
    # In parts, and past the size where OpenSSL's SHA-256 takes over from the built-in one.
    for size in (LARGE - 1, LARGE, LARGE + 100):
        message = rng.randbytes(size)
        expected = hmac.new(b"key", message, "sha256").digest()
        assert hmac_sha256(b"key", message[:10], message[10:]) == expected
        assert sha256(message).hexdigest() == hashlib.sha256(message).hexdigest()
    # Once OpenSSL's is loaded, it also hashes the smaller inputs from a few kilobytes on.
    for size in (LARGE_ONCE_LOADED - 1, LARGE_ONCE_LOADED, LARGE - 1):
        message = rng.randbytes(size)
        assert sha256(message).hexdigest() == hashlib.sha256(message).hexdigest()


def test_the_kept_answer_about_frozen_releases_follows_the_dumps_and_the_spec(
    write_specs, private_cache: Path
) -> None:  # type: ignore[no-untyped-def]
    """PV003's answer is kept between runs; editing a frozen dump, the spec or adding a
    release is seen at once, exactly as without the cache."""
    folder = write_specs({"a.pvspec": MAIN, "types.pvspec": "typedef u32 word_t;\n"})
    assert run_cli("freeze", "a.pvspec", cwd=folder).status == 0
    dump = folder / "abi" / "demo" / "1.json"
    clean = run_cli("check", "a.pvspec", cwd=folder)
    assert clean.status == 0 and "PV003" not in clean.err
    assert any(p.name.startswith("frozen-") for p in entries(private_cache))
    original = dump.read_text()
    dump.write_text(original.replace('"u32"', '"u64"'))  # edited by hand
    edited = run_cli("check", "a.pvspec", cwd=folder)
    assert "PV003" in edited.err and "edited by hand" in edited.err
    dump.write_text(original)
    assert run_cli("check", "a.pvspec", cwd=folder).err == clean.err
    (folder / "types.pvspec").write_text("typedef u64 word_t;\n")  # changes release 1
    changed = run_cli("check", "a.pvspec", cwd=folder)
    assert "PV003" in changed.err and "changes frozen version 1" in changed.err
    os.environ["PVGEN_NO_CACHE"] = "1"
    try:
        assert run_cli("check", "a.pvspec", cwd=folder).err == changed.err
    finally:
        del os.environ["PVGEN_NO_CACHE"]


NO_DOC = (
    PREAMBLE
    + "/// Ops.\ntable t {\n    void f(u32 x);\n}\n/// Bare hardware.\nbackend native default;\n"
)


def test_kept_findings_follow_the_configuration_the_links_and_the_spec(
    write_specs, private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """The findings are kept between runs (a `check-` entry); a change of the [rules]
    levels, of an allow, of where a spec file's name leads, or of the spec, is seen at
    once, exactly as without the cache."""
    folder = write_specs({"real/a.pvspec": NO_DOC, "other/a.pvspec": NO_DOC})
    (folder / "specs").symlink_to("real", target_is_directory=True)
    config = folder / "pvgen.toml"

    def both() -> tuple[str, str]:
        cached = run_cli("check", "specs/a.pvspec", cwd=folder)
        monkeypatch.setenv("PVGEN_NO_CACHE", "1")
        fresh = run_cli("check", "specs/a.pvspec", cwd=folder)
        monkeypatch.delenv("PVGEN_NO_CACHE")
        assert (cached.status, cached.err) == (fresh.status, fresh.err)
        return cached.err, run_cli("check", "specs/a.pvspec", cwd=folder).err

    config.write_text('specs = ["specs/a.pvspec"]\n')
    first, again = both()
    assert "PV111" in first and again == first
    assert any(p.name.startswith("check-") for p in entries(private_cache))
    config.write_text('specs = ["specs/a.pvspec"]\n[rules]\nPV111 = "off"\n')
    assert "PV111" not in both()[0]
    allow = '[[allow]]\nrule = "PV111"\npath = "real/*.pvspec"\nreason = "drafts"\n'
    config.write_text('specs = ["specs/a.pvspec"]\n' + allow)
    assert "PV111" not in both()[0]  # the link leads into real/: allowed
    (folder / "specs").unlink()
    (folder / "specs").symlink_to("other", target_is_directory=True)
    retargeted = both()[0]
    assert "warning[PV111]" in retargeted and "PV001" in retargeted  # no longer matched
    (folder / "other" / "a.pvspec").write_text(
        NO_DOC.replace("    void f", "    /// F.\n    void f")
    )
    assert "warning[PV111]" not in both()[0]


def test_a_kept_check_needs_neither_the_model_nor_the_trees(
    write_specs, private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A check whose inputs are unchanged is answered from its `check-` entry alone: with
    every other entry gone it prints the same and parses nothing. After an edit it is a
    miss again, and agrees with a run without the cache."""
    folder = write_specs({"a.pvspec": NO_DOC, "types.pvspec": "typedef u32 word_t;\n"})
    first = run_cli("check", "a.pvspec", cwd=folder)
    assert "PV111" in first.err and "abi 'demo' version 1" in first.out
    kept = [p for p in entries(private_cache) if p.name.startswith("check-")]
    assert len(kept) == 1
    for entry in entries(private_cache):
        if entry not in kept:
            entry.unlink()
    again = run_cli("check", "a.pvspec", cwd=folder)
    assert (again.status, again.out, again.err) == (first.status, first.out, first.err)
    assert entries(private_cache) == kept  # no model, tree or findings entry was made
    (folder / "a.pvspec").write_text(NO_DOC.replace("    void f", "    /// F.\n    void f"))
    edited = run_cli("check", "a.pvspec", cwd=folder)
    assert "PV111" not in edited.err and trees(private_cache)
    monkeypatch.setenv("PVGEN_NO_CACHE", "1")
    fresh = run_cli("check", "a.pvspec", cwd=folder)
    assert (edited.status, edited.out, edited.err) == (fresh.status, fresh.out, fresh.err)


def test_a_generate_of_unchanged_files_into_a_current_folder_renders_nothing(
    write_specs, private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """`generate` keeps the manifest of what it wrote (a `made-` entry). While the spec's
    files are unchanged and the folder holds exactly those files, a run says so without
    the model, the trees or rendering. Any difference in the folder (a file edited by hand,
    one deleted, a leftover temporary file) or in the spec means a full run, which answers
    exactly as a run without the cache."""
    folder = write_specs({"a.pvspec": MAIN, "types.pvspec": "typedef u32 word_t;\n"})
    out = folder / "out" / "demo"

    def both(*args: str) -> tuple[int, str, str]:
        cached = run_cli(*args, cwd=folder)
        return cached.status, cached.out, cached.err

    def uncached(*args: str) -> tuple[int, str, str]:
        monkeypatch.setenv("PVGEN_NO_CACHE", "1")
        try:
            fresh = run_cli(*args, cwd=folder)
        finally:
            monkeypatch.delenv("PVGEN_NO_CACHE")
        return fresh.status, fresh.out, fresh.err

    generate = ("generate", "a.pvspec", "--out", "out")
    first = both(*generate)
    assert first[0] == 0 and "0 unchanged" in first[1]
    n = int(first[1].split(": ")[1].split()[0])  # how many files a run writes
    made = [p for p in entries(private_cache) if p.name.startswith("made-")]
    assert len(made) == 1
    for entry in entries(private_cache):
        if entry not in made:
            entry.unlink()
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    again = both(*generate)
    assert again == (0, f"out/demo: 0 written, {n} unchanged, 0 removed\n", "")
    assert entries(private_cache) == made  # nothing was loaded, parsed or rendered
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == stamps
    assert both("generate", "--check", "a.pvspec", "--out", "out") == (
        0,
        f"out/demo: up to date ({n} files)\n",
        "",
    )
    header = out / "c" / "demo.h"
    header.write_text(header.read_text() + "/* mine */\n")  # edited by hand: refused
    assert both(*generate) == uncached(*generate) and both(*generate)[0] == 2
    assert both("generate", "--check", "a.pvspec", "--out", "out")[0] == 1
    header.unlink()  # deleted: written again
    assert both(*generate) == (0, f"out/demo: 1 written, {n - 1} unchanged, 0 removed\n", "")
    (out / ".pvgen-tmp-0123456789ab").write_text("left by a run that died")
    assert both(*generate) == (0, f"out/demo: 0 written, {n} unchanged, 0 removed\n", "")
    assert not (out / ".pvgen-tmp-0123456789ab").exists()  # the full run removed it
    (folder / "types.pvspec").write_text("typedef u64 word_t;\n")
    edited = both(*generate)
    assert edited[0] == 0 and "0 written" not in edited[1]
    assert both(*generate) == uncached(*generate)


def test_rendered_files_are_kept_from_their_second_rendering_on(
    write_specs, private_cache: Path
) -> None:  # type: ignore[no-untyped-def]
    """`api.render` with the spec keeps a state's files only once they have been rendered
    twice: an edited spec renders each state once, and storing every state's files would
    cost each edit more than it saves. (`pvgen generate` streams its files into the folder
    instead, and keeps none.)"""
    from pvgen import api

    folder = write_specs({"a.pvspec": MAIN, "types.pvspec": "typedef u32 word_t;\n"})
    spec = folder / "a.pvspec"

    def kept() -> list[Path]:
        return [p for p in entries(private_cache) if p.name.startswith("out-")]

    def render() -> list[api.OutputFile]:
        return api.render(api.load_abi(spec), spec=spec)

    first = render()
    assert not kept()
    assert render() == first and len(kept()) == 1
    stamp = kept()[0].stat().st_mtime_ns
    assert render() == first
    assert kept()[0].stat().st_mtime_ns == stamp  # read back, not rendered and stored again
    (folder / "types.pvspec").write_text("typedef u64 word_t;\n")
    assert render() != first
    assert kept()[0].stat().st_mtime_ns == stamp  # the edited state was rendered once: not kept
