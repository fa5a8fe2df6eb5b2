"""A canonical form of a program, so that programs differing only in layout, comments,
docstrings or the names of their own variables are recognised as one program.

The program is parsed with ``ast`` (comments and formatting do not survive), bare
string statements (docstrings) are dropped, and every name the program binds itself
(variables, functions, parameters, loop and comprehension targets) is renamed
``v0, v1, ...`` in order of first appearance. Names it does not bind (builtins,
imported modules, attributes) are left alone, and so are constants: programs that
differ in a constant are different programs. Text that does not parse falls back
to its whitespace-normalized form.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import re
import warnings
from collections.abc import Callable

from ekt_curate.sandbox.program_text import extract_program
from ekt_curate.steps import canonical_rename, fast_unparse

_TOKEN = re.compile(r"[A-Za-z_]\w*|\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|\*\*|//|==|!=|<=|>=|[^\s\w]")


class _BoundNames(ast.NodeVisitor):
    """Names the program binds (so renaming them cannot change what it refers to outside)."""

    def __init__(self) -> None:
        self.bound: set[str] = set()
        self.imported: set[str] = set()

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, (ast.Store, ast.Del)):
            self.bound.add(node.id)

    def visit_arg(self, node: ast.arg) -> None:
        self.bound.add(node.arg)

    def _define(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.bound.add(node.name)
        self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _define

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.bound.add(node.name)
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            self.imported.add((alias.asname or alias.name).split(".")[0])

    visit_ImportFrom = visit_Import


class _Rename(ast.NodeTransformer):
    def __init__(self, renamable: set[str]):
        self.renamable = renamable
        self.names: dict[str, str] = {}

    def _name(self, name: str) -> str:
        if name not in self.renamable:
            return name
        if name not in self.names:
            self.names[name] = f"v{len(self.names)}"
        return self.names[name]

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self._name(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self._name(node.arg)
        node.annotation = None
        return node

    def _define(self, node):  # type: ignore[no-untyped-def]
        node.name = self._name(node.name)
        node.body = _without_docstrings(node.body)
        if not isinstance(node, ast.ClassDef):
            node.returns = None
        return self.generic_visit(node)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _define

    def visit_keyword(self, node: ast.keyword) -> ast.keyword:
        if node.arg is not None:
            node.arg = self._name(node.arg) if node.arg in self.names else node.arg
        return self.generic_visit(node)  # type: ignore[return-value]

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.ExceptHandler:
        if node.name:
            node.name = self._name(node.name)
        return self.generic_visit(node)  # type: ignore[return-value]

    def visit_Global(self, node: ast.Global | ast.Nonlocal) -> ast.AST:
        node.names = [self._name(name) for name in node.names]
        return node

    visit_Nonlocal = visit_Global


def _without_docstrings(body: list[ast.stmt]) -> list[ast.stmt]:
    kept = [s for s in body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                    and isinstance(s.value.value, str))]
    return kept or [ast.Pass()]


def canonical_form(completion: str) -> str:
    return program_form(extract_program(completion))


def program_form(program: str, warnings_off: bool = False) -> str:
    """canonical_form of a program already taken out of its completion (extract_program).
    ``warnings_off``: the caller ignores warnings already (a context per program costs ~4 us)."""
    return _form(program, _fast if fast_path() else _reference, warnings_off)


def reference_form(completion: str) -> str:
    """canonical_form as first written (two ast visitors, then ``ast.unparse``): the specification
    the fast path is checked against, in fast_path() and in the tests."""
    return _form(extract_program(completion), _reference)


def _form(program: str, finish: Callable[[ast.Module, str], str], warnings_off: bool = False) -> str:
    try:
        if warnings_off:
            tree = ast.parse(program)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # invalid escape sequences in model text
                tree = ast.parse(program)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return " ".join(program.split())
    return finish(tree, program)


def _reference(tree: ast.Module, program: str) -> str:
    finder = _BoundNames()
    finder.visit(tree)
    tree.body = _without_docstrings(tree.body)
    tree = _Rename(finder.bound - finder.imported).visit(tree)
    try:
        return ast.unparse(tree)
    except (RecursionError, ValueError):
        return " ".join(program.split())


def _fast(tree: ast.Module, program: str) -> str:
    """The tree the visitors above leave, written as ast.unparse writes it, ~5x faster
    (steps/fast_unparse.py). Past MAX_DEPTH, or for a statement it does not write, ast.unparse
    writes the renamed tree; its RecursionError falls back as the reference does (the reference's
    visitors could also raise it, uncaught, from ~450 levels: here the walk is iterative)."""
    depth = canonical_rename.rename(tree, _BoundNames)
    try:
        if depth <= fast_unparse.MAX_DEPTH:
            try:
                return fast_unparse.unparse(tree)
            except fast_unparse.Unsupported:
                pass
        return ast.unparse(tree)
    except (RecursionError, ValueError):
        return " ".join(program.split())


@functools.cache
def fast_path() -> bool:
    """Whether the fast path writes fast_unparse.PROBE (every construct it writes itself) to the
    byte as the reference does on this Python; checked once per process, ~2 ms. If not, every
    program takes the reference path: slower, never a different hash."""
    try:
        return _form(fast_unparse.PROBE, _fast) == _form(fast_unparse.PROBE, _reference)
    except Exception:  # noqa: BLE001 - any surprise in the fast writer means: do not use it
        return False


def canonical_hash(canonical: str) -> str:
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def tokens(canonical: str) -> list[str]:
    """Identifiers, numbers and operators: the units of the MinHash shingles."""
    return _TOKEN.findall(canonical)
