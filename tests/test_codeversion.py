"""A rule's code version: its script and the genstudy modules it imports, transitively, read from
the installed package (genstudy/codeversion.py)."""

import ast
import hashlib
import re
import subprocess
import sys

from genstudy import codeversion
from genstudy.codeversion import code_version, executable_form, imported_modules, module_closure, module_source
from helpers import ROOT

SCRIPTS = ROOT / "workflow" / "scripts"


def test_every_form_of_import_of_a_genstudy_module_is_found_and_nothing_else():
    source = (
        "import os\nimport numpy as np\nfrom pathlib import Path\n"
        "from .arrays import atomic_output\nfrom . import labels, registry\n"
        "from genstudy.plotting import plot_ranking\nfrom genstudy import tables\n"
        "import genstudy.ranking\nimport genstudy.sign_error as se\n"
        "def f():\n    from genstudy.training import TrainSettings\n"
    )
    assert imported_modules(source) == {
        "arrays",
        "labels",
        "registry",
        "plotting",
        "tables",
        "ranking",
        "sign_error",
        "training",
    }


def test_the_closure_follows_the_package_s_own_imports_and_stops_there():
    closure = module_closure(["plotting"])
    assert closure == sorted(closure) and "__init__" in closure and "plotting" in closure
    # every module in it is plotting or imported by one in it; registry comes through plotting
    reached = {"__init__", "plotting"}
    for name in closure:
        reached |= imported_modules(module_source(name))
    assert set(closure) == reached
    assert "registry" in closure and not {"training", "curvature", "findings"} & set(closure)
    assert {"training", "curvature", "model"} <= set(
        module_closure(imported_modules((SCRIPTS / "train.py").read_text()))
    )


def test_the_version_hashes_the_script_and_each_module_with_its_name(monkeypatch):
    script = (SCRIPTS / "plot_ranking.py").read_text()
    modules = module_closure(imported_modules(script))
    h = hashlib.sha256(executable_form(script).encode())
    for name in modules:
        h.update(f"\0{name}\0{executable_form((SCRIPTS / 'genstudy' / f'{name}.py').read_text())}".encode())
    assert code_version(script) == h.hexdigest()[:16]
    assert code_version(script + "\nEDIT = 1\n") != code_version(script)
    # an edit of a module the script imports changes it; of one it does not, nothing
    original = codeversion.module_source
    for name, changes in (("plotting", True), ("training", False)):
        monkeypatch.setattr(codeversion, "module_source", lambda n, m=name: original(n) + ("X = 1\n" if n == m else ""))
        assert (code_version(script) != h.hexdigest()[:16]) is changes, name
    monkeypatch.setattr(codeversion, "module_source", original)


def test_docstrings_comments_and_blank_lines_are_not_code_and_everything_else_is():
    source = (
        '"""Module ‖W‖₂."""\nimport math  # ‖why‖\n\n\ndef f(a):\n    """f\n    ‖on two lines‖"""\n'
        '    # a comment\n    return a + 1  # tail\n\n\nclass C:\n    """Only a docstring."""\n'
        'HASH = "# not a comment"\nTEXT = """not a docstring"""\n'
    )
    form = executable_form(source)
    assert form == (
        'import math\ndef f(a):\n    return a + 1\nclass C:\nHASH = "# not a comment"\nTEXT = """not a docstring"""'
    )
    for code_edit in (("a + 1", "a + 2"), ("# not a", "#not a"), ("not a docstring", "other"), ("math", "cmath")):
        assert executable_form(source.replace(*code_edit)) != form, code_edit


def test_rewording_every_docstring_of_the_package_keeps_every_rule_s_version():
    """On the real modules (non-ASCII docstrings, docstrings beside code): each docstring replaced by
    another text, and a comment added to every line that has code, leaves every code version as it is."""
    original = codeversion.module_source

    def reworded(name):
        source = original(name)
        lines = source.splitlines(keepends=True)
        for node in ast.walk(ast.parse(source)):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
                doc = body[0]
                if isinstance(doc.value, ast.Constant) and isinstance(doc.value.value, str):
                    first = lines[doc.lineno - 1].encode()
                    last = lines[doc.end_lineno - 1].encode()
                    new = first[: doc.col_offset].decode() + '"""Reworded."""' + last[doc.end_col_offset :].decode()
                    lines[doc.lineno - 1 : doc.end_lineno] = [new] + [""] * (doc.end_lineno - doc.lineno)
        return "".join(lines) + "\n# a closing comment\n"

    scripts = sorted(SCRIPTS.glob("*.py"))
    before = {s.name: code_version(s.read_text()) for s in scripts}
    codeversion.module_source = reworded
    try:
        assert reworded("registry") != original("registry")
        assert {s.name: code_version(s.read_text()) for s in scripts} == before
    finally:
        codeversion.module_source = original


def test_a_snakefile_without_the_package_names_what_to_install(tmp_path):
    code = (
        "import sys; sys.modules['genstudy'] = None; "
        f"sys.argv = ['snakemake', '-n', '-s', {str(ROOT / 'Snakefile')!r}, '--directory', {str(tmp_path)!r}, "
        f"'--configfile', {str(ROOT / 'config.yaml')!r}]; "
        "from snakemake.cli import main; main()"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert re.search(r"genstudy is not installed: `make setup`.*pip install -e", out, re.S), out[-2000:]
    assert "Traceback" not in out and not (tmp_path / "results").exists()


def test_package_differences_name_the_modules_whose_code_differs_or_that_one_side_lacks(tmp_path):
    from genstudy.codeversion import PACKAGE_DIR, package_differences

    assert package_differences(PACKAGE_DIR) == []
    for p in PACKAGE_DIR.glob("*.py"):
        (tmp_path / p.name).write_text(p.read_text())
    (tmp_path / "registry.py").write_text((tmp_path / "registry.py").read_text() + "\n# a comment\n")
    assert package_differences(tmp_path) == []
    (tmp_path / "plotting.py").write_text((tmp_path / "plotting.py").read_text() + "\nEDITED = 1\n")
    (tmp_path / "tables.py").unlink()
    (tmp_path / "extra.py").write_text("X = 1\n")
    assert package_differences(tmp_path) == ["extra", "plotting", "tables"]
