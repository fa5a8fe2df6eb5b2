"""The renaming of steps/canonical.py's first visitors (``_BoundNames`` then ``_Rename``) in one walk.

:func:`rename` walks the tree once, iteratively, in the field order the old ``_Rename``
transformer visited it, collecting the bound and imported names (the old ``_BoundNames``) and the
nodes that carry names; the names are then numbered ``v0, v1, ...`` in that order and set in
place. The tree it leaves is the one the two visitors left (docstrings, annotations and return
annotations dropped), in ~15 us instead of ~105 us for a GSM8K-sized program, and as an
iterative walk it cannot raise RecursionError (the visitors did from ~450 levels).
"""

from __future__ import annotations

import ast

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_SINGLETONS = ("ctx", "op", "ops")  # Load/Store, operators: shared leaves without names
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def without_docstrings(body: list[ast.stmt]) -> list[ast.stmt]:
    kept = [s for s in body if not (type(s) is ast.Expr and type(s.value) is ast.Constant
                                    and isinstance(s.value.value, str))]
    return kept or [ast.Pass()]


def rename(tree: ast.Module, bound_names: type[ast.NodeVisitor]) -> int:
    """Rename the program's own names in place as the old visitors did; returns the tree's depth.
    ``bound_names`` is the old ``_BoundNames`` visitor, used for return annotations only (the old
    code counted names bound there, then dropped the annotation)."""
    Name, Load, arg, Constant = ast.Name, ast.Load, ast.arg, ast.Constant
    BinOp, Assign, Expr, Return, Attribute, Call = ast.BinOp, ast.Assign, ast.Expr, ast.Return, ast.Attribute, ast.Call
    bound: set[str] = set()
    imported: set[str] = set()
    named: list[ast.AST] = []
    tree.body = without_docstrings(tree.body)
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    depth = 1
    pop, push = stack.pop, stack.append
    while stack:
        node, level = pop()
        kind = type(node)
        if kind is Name:
            named.append(node)
            if type(node.ctx) is not Load:
                bound.add(node.id)
            continue
        if kind is Constant:
            continue
        if level > depth:
            depth = level
        level += 1
        if kind is arg:
            named.append(node)
            bound.add(node.arg)
            node.annotation = None
            continue
        # the most common nodes of GSM8K-sized programs, their children pushed without the generic
        # field loop below (in reverse field order: the stack pops them in order); constants are
        # leaves without names, never pushed (~25% of rename's time)
        if kind is BinOp:
            if type(node.right) is not Constant:
                push((node.right, level))
            if type(node.left) is not Constant:
                push((node.left, level))
            continue
        if kind is Assign:
            if type(node.value) is not Constant:
                push((node.value, level))
            for target in reversed(node.targets):
                push((target, level))
            continue
        if kind is Expr or kind is Return or kind is Attribute:
            if node.value is not None and type(node.value) is not Constant:
                push((node.value, level))
            continue
        if kind is Call:
            for child in reversed(node.keywords):
                push((child, level))
            for child in reversed(node.args):
                if type(child) is not Constant:
                    push((child, level))
            push((node.func, level))
            continue
        if kind in _DEFS:
            named.append(node)
            bound.add(node.name)
            node.body = without_docstrings(node.body)
            if kind is not ast.ClassDef:
                if node.returns is not None:
                    finder = bound_names()
                    finder.visit(node.returns)
                    bound |= finder.bound
                    imported |= finder.imported
                    node.returns = None
        elif kind is ast.Import or kind is ast.ImportFrom:
            for alias in node.names:
                imported.add((alias.asname or alias.name).split(".")[0])
            continue
        elif kind is ast.ExceptHandler:
            if node.name:
                named.append(node)
                bound.add(node.name)
        elif kind is ast.Global or kind is ast.Nonlocal or kind is ast.keyword:
            named.append(node)
        # the children, in field order (pushed in reverse: the stack pops them in order)
        fields = _CHILD_FIELDS.get(kind)
        if fields is None:
            fields = _CHILD_FIELDS[kind] = tuple(reversed([f for f in kind._fields if f not in _SINGLETONS]))
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list:
                for item in reversed(value):
                    if isinstance(item, ast.AST):
                        push((item, level))
            elif isinstance(value, ast.AST):
                push((value, level))
    renamable = bound - imported
    if renamable:
        names: dict[str, str] = {}
        for node in named:
            kind = type(node)
            if kind is Name:
                if node.id in renamable:
                    node.id = names.get(node.id) or names.setdefault(node.id, f"v{len(names)}")
            elif kind is arg:
                if node.arg in renamable:
                    node.arg = names.get(node.arg) or names.setdefault(node.arg, f"v{len(names)}")
            elif kind is ast.keyword:  # a keyword is renamed only once its name has been numbered
                if node.arg is not None and node.arg in names:
                    node.arg = names[node.arg]
            elif kind is ast.Global or kind is ast.Nonlocal:
                node.names = [names.get(n) or names.setdefault(n, f"v{len(names)}") if n in renamable else n
                              for n in node.names]
            elif node.name in renamable:  # defs, classes, except ... as name
                node.name = names.get(node.name) or names.setdefault(node.name, f"v{len(names)}")
    return depth
