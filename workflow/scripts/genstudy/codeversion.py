"""The version of a rule's code: a hash of its script and of every genstudy module the script
imports, transitively, read from the installed package.

A rule's ``code`` param is this hash, so editing a module reruns exactly the jobs whose code
changed, and a job's code is the code that runs it: the package the jobs import. What is hashed is
each file without its docstrings, comments and blank lines, so editing those reruns nothing, while
any edit of what runs (a statement, a constant, a string the code uses) does.
Standard library only, as the Snakefile imports it at parse time.
"""

import ast
import functools
import hashlib
import io
import tokenize
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def module_source(name: str) -> str:
    """The source of the installed module ``genstudy.<name>``."""
    return (PACKAGE_DIR / f"{name}.py").read_text()


def imported_modules(source: str) -> set[str]:
    """The genstudy modules that ``source`` imports itself: ``from .x import``, ``from . import x``,
    ``from genstudy.x import``, ``from genstudy import x`` and ``import genstudy.x``."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found.update([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("genstudy"):
            parts = node.module.split(".")
            found.update(parts[1:2] if len(parts) > 1 else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("genstudy."))
    return found


def module_closure(names) -> list[str]:
    """These genstudy modules and every one they import, transitively (``__init__`` included), sorted."""
    seen, todo = {"__init__"}, sorted(names)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(imported_modules(module_source(name)))
    return sorted(seen)


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _docstring_spans(source: str, lines: list[str]):
    """(start line, start column, end line, end column) of each docstring, columns in characters."""

    def column(row: int, offset: int) -> int:  # ast counts UTF-8 bytes, the text characters
        return len(lines[row - 1].encode()[:offset].decode())

    scopes = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, scopes) and node.body and _is_docstring(node.body[0]):
            doc = node.body[0]
            yield (
                doc.lineno,
                column(doc.lineno, doc.col_offset),
                doc.end_lineno,
                column(doc.end_lineno, doc.end_col_offset),
            )


# Keyed by the text itself: every rule's closure shares most modules, and the Snakefile computes
# every rule's version at parse time, so each distinct file is reduced once per process.
@functools.cache
def executable_form(source: str) -> str:
    """``source`` without its docstrings (of the module, classes and functions), comments, blank
    lines and trailing spaces: what decides what runs, as text, so that the hash does not depend on
    the interpreter's version as a syntax tree's dump would."""
    lines = source.splitlines(keepends=True)
    spans = list(_docstring_spans(source, lines))
    spans += [
        (*t.start, *t.end) for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type == tokenize.COMMENT
    ]
    for row, col, end_row, end_col in sorted(spans, reverse=True):
        head, tail = lines[row - 1][:col], lines[end_row - 1][end_col:]
        lines[row - 1 : end_row] = [head + tail]
    return "\n".join(line.rstrip() for line in "".join(lines).splitlines() if line.strip())


def code_version(script_source: str) -> str:
    """Hash of a rule's code: its script and the genstudy modules it needs, each in its executable
    form and with its name (16 hex digits of SHA-256)."""
    h = hashlib.sha256(executable_form(script_source).encode())
    for name in module_closure(imported_modules(script_source)):
        h.update(f"\0{name}\0{executable_form(module_source(name))}".encode())
    return h.hexdigest()[:16]


def package_differences(folder: Path) -> list[str]:
    """The modules whose code (executable form) differs between the installed package and the
    package folder ``folder``, or that only one of them has: a checkout run with a genstudy
    installed from elsewhere would run, and hash, the other code."""
    installed, local = ({p.stem: executable_form(p.read_text()) for p in d.glob("*.py")} for d in (PACKAGE_DIR, folder))
    return sorted(name for name in installed.keys() | local.keys() if installed.get(name) != local.get(name))
