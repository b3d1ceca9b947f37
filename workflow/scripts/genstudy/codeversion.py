"""The version of a rule's code: a hash of its script and of every genstudy module the script
imports, transitively, read from the installed package.

A rule's ``code`` param is this hash, so editing a module reruns exactly the jobs whose code
changed, and a job's code is the code that runs it: the package the jobs import. Standard library
only, as the Snakefile imports it at parse time.
"""

import ast
import hashlib
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


def code_version(script_source: str) -> str:
    """Hash of a rule's code: its script's source and the genstudy modules it needs, each hashed
    with its name (16 hex digits of SHA-256)."""
    h = hashlib.sha256(script_source.encode())
    for name in module_closure(imported_modules(script_source)):
        h.update(f"\0{name}\0{module_source(name)}".encode())
    return h.hexdigest()[:16]
