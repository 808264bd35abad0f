"""The VS Code extension of editors/vscode holds together: what its manifest names exists, the
language configuration's patterns are JavaScript regular expressions that do what they are
for (run by node, as VS Code runs them), and extension.js is valid JavaScript that starts
`pvgen lsp`, a command pvgen has.

VS Code itself cannot run here; docs/editors.md says what was and was not tried. The Emacs
configuration of docs/editors.md is loaded in Emacs where Emacs and eglot are installed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, run_process

EDITOR = ROOT / "editors" / "vscode"


def manifest() -> dict[str, object]:
    data: dict[str, object] = json.loads((EDITOR / "package.json").read_text(encoding="utf-8"))
    return data


def node(script: str, *args: str) -> str:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the extension's JavaScript is checked with node")
    proc = subprocess.run(
        ["node", "-e", script, *args], capture_output=True, text=True, check=False, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_manifest_names_files_that_exist() -> None:
    data = manifest()
    contributes = data["contributes"]
    assert isinstance(contributes, dict)
    (language,) = contributes["languages"]
    (grammar,) = contributes["grammars"]
    assert language["id"] == grammar["language"] == "pvspec"
    assert language["extensions"] == [".pvspec"]
    assert (EDITOR / language["configuration"]).is_file()
    assert (EDITOR / str(data["main"])).is_file()
    tm = json.loads((EDITOR / grammar["path"]).read_text(encoding="utf-8"))
    assert tm["scopeName"] == grammar["scopeName"] == "source.pvspec"
    assert data["activationEvents"] == ["onLanguage:pvspec"]
    settings = contributes["configuration"]["properties"]
    assert settings["pvspec.server.path"]["default"] == "pvgen"
    dependencies = data["dependencies"]
    assert isinstance(dependencies, dict) and "vscode-languageclient" in dependencies


def test_lock_files_pin_what_the_manifests_ask_for() -> None:
    for folder in (EDITOR, EDITOR / "test"):
        package = json.loads((folder / "package.json").read_text(encoding="utf-8"))
        lock = json.loads((folder / "package-lock.json").read_text(encoding="utf-8"))
        wanted = {**package.get("dependencies", {}), **package.get("devDependencies", {})}
        for name, version in wanted.items():
            assert lock["packages"][f"node_modules/{name}"]["version"] == version, (folder, name)


def test_extension_is_javascript_that_runs_pvgen_lsp() -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: extension.js is checked with node --check")
    proc = subprocess.run(["node", "--check", str(EDITOR / "extension.js")], check=False)
    assert proc.returncode == 0
    source = (EDITOR / "extension.js").read_text(encoding="utf-8")
    assert "'lsp'" in source and "server.path" in source


def test_the_command_the_extension_starts_exists() -> None:
    from pvgen.commands import COMMANDS

    if "lsp" not in {c.NAME for c in COMMANDS}:
        pytest.skip("this pvgen has no 'lsp' command yet: the extension starts 'pvgen lsp'")
    assert run_process("lsp", "--help").status == 0


CONFIG_CHECK = r"""
const config = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'));
const rules = config.indentationRules;
const out = {
  increase: ['table pv_irq_ops {', 'backend xen {', '    @patch(x) struct s {', 'abi a { // x']
    .map((l) => new RegExp(rules.increaseIndentPattern).test(l)),
  noIncrease: ['struct s { u32 a; }', '// table x {', 'void f();']
    .map((l) => new RegExp(rules.increaseIndentPattern).test(l)),
  decrease: ['}', '    };'].map((l) => new RegExp(rules.decreaseIndentPattern).test(l)),
  docContinues: ['    /// Returns EFLAGS.'].map((l) =>
    new RegExp(config.onEnterRules[0].beforeText).test(l)),
  docStops: ['    //// not a doc', '    // plain'].map((l) =>
    new RegExp(config.onEnterRules[0].beforeText).test(l)),
  words: ['pv_irq_ops', '-0x10', '42'].map((w) =>
    new RegExp('^(?:' + config.wordPattern + ')$').test(w)),
};
process.stdout.write(JSON.stringify(out));
"""


def test_language_configuration_patterns() -> None:
    path = EDITOR / "language-configuration.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    assert config["comments"] == {"lineComment": "//", "blockComment": ["/*", "*/"]}
    assert ["{", "}"] in config["brackets"] and ["(", ")"] in config["brackets"]
    opened = {pair["open"]: pair["close"] for pair in config["autoClosingPairs"]}
    assert opened["{"] == "}" and opened["("] == ")" and opened['"'] == '"'
    result = json.loads(node(CONFIG_CHECK, str(path)))
    assert result == {
        "increase": [True, True, True, True],
        "noIncrease": [False, False, False],
        "decrease": [True, True],
        "docContinues": [True],
        "docStops": [False, False],
        "words": [True, True, True],
    }


EMACS_CHECK = r"""
(package-initialize)
(require 'eglot)
(load (expand-file-name (car command-line-args-left)))
(find-file (cadr command-line-args-left))
(defun pv-comment-p (needle)
  (goto-char (point-min))
  (search-forward needle)
  (and (nth 4 (syntax-ppss)) t))
(defun pv-face (needle)
  (goto-char (point-min))
  (search-forward needle)
  (get-text-property (match-beginning 0) 'face))
(font-lock-ensure)
(let ((facts
       (list major-mode
             (pv-comment-p "Every construct") (pv-comment-p "A spec that uses every")
             (pv-comment-p "over two lines") (pv-comment-p "stability stable")
             (pv-face "table pv_irq_ops") (pv-face "@callee_save")
             (nth 3 (eglot--guess-contact)))))
  (goto-char (point-min))
  (search-forward "    version 3;")
  (comment-line 1)
  (forward-line -1)
  (princ (format "%S\n" (append facts (list (buffer-substring (line-beginning-position)
                                                             (line-end-position)))))))
"""


def test_emacs_configuration_of_the_docs(tmp_path: Path) -> None:
    """The elisp of docs/editors.md, loaded in Emacs: the mode, its comments and faces, and
    the program eglot starts for a spec."""
    if shutil.which("emacs") is None:
        pytest.skip("emacs is not installed: the Emacs configuration is checked in Emacs")
    probe = subprocess.run(
        ["emacs", "--batch", "-q", "--eval", "(progn (package-initialize) (require 'eglot))"],
        capture_output=True,
        check=False,
        timeout=120,
    )
    if probe.returncode != 0:
        pytest.skip("eglot is not installed (Emacs 29 has it; elpa-eglot for Emacs 28)")
    docs = (ROOT / "docs" / "editors.md").read_text(encoding="utf-8")
    (elisp,) = re.findall(r"^```elisp\n(.*?)^```$", docs, flags=re.S | re.M)
    mode = tmp_path / "pvspec.el"
    mode.write_text(elisp, encoding="utf-8")
    check = tmp_path / "check.el"
    check.write_text(EMACS_CHECK, encoding="utf-8")
    spec = ROOT / "tests" / "editors" / "constructs.pvspec"
    proc = subprocess.run(
        ["emacs", "--batch", "-q", "-l", str(check), str(mode), str(spec)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == (
        '(pvspec-mode t t t nil font-lock-keyword-face font-lock-preprocessor-face ("pvgen" "lsp")'
        ' "    // version 3;")'
    )
