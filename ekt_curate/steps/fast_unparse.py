"""``ast.unparse`` of a renamed tree (steps/canonical_rename.py), to the byte and ~5x faster.

Profiled on the 100,000 annotation-teacher records of ``benchmarks/bench_dedup.py``, the first
canonical form spent 64% of dedup's time in ``ast.NodeVisitor``/``NodeTransformer`` dispatch and
``ast.unparse`` (getattr per node and field, a context manager per bracket): per GSM8K-sized
program ~40 us parsing (C), ~105 us in the two renaming visitors, ~65 us in ``ast.unparse``.
:func:`unparse` writes the tree as ``ast.unparse`` does in ~13 us: the same precedence table,
brackets, spacing and blank lines (``ast._Unparser`` of 3.11-3.13 is the specification).
Expressions it does not know, f-strings for one, are handed to ``ast._Unparser`` itself (an
expression's text depends on nothing but the node and its precedence); a statement it does not
know raises :class:`Unsupported` and the caller uses ``ast.unparse`` on the whole tree.
``canonical.fast_path()`` checks the result against the reference on :data:`PROBE`, which uses
every construct written here, once per process: a Python whose ``ast.unparse`` writes something
differently takes the reference path instead of changing hashes. Trees deeper than
:data:`MAX_DEPTH` are left to ``ast.unparse`` (the reference's RecursionError fallback happens at
~330 levels; below 100 neither can reach it).
"""

from __future__ import annotations

import ast

MAX_DEPTH = 100

# ast._Precedence (3.11-3.13) as ints
NAMED_EXPR, TUPLE, YIELD, TEST, OR, AND, NOT, CMP, EXPR = 1, 2, 3, 4, 5, 6, 7, 8, 9
BXOR, BAND, SHIFT, ARITH, TERM, FACTOR, POWER, AWAIT, ATOM = 10, 11, 12, 13, 14, 15, 16, 17, 18

_BINOP = {ast.Add: (" + ", ARITH), ast.Sub: (" - ", ARITH), ast.Mult: (" * ", TERM), ast.MatMult: (" @ ", TERM),
          ast.Div: (" / ", TERM), ast.Mod: (" % ", TERM), ast.LShift: (" << ", SHIFT), ast.RShift: (" >> ", SHIFT),
          ast.BitOr: (" | ", EXPR), ast.BitXor: (" ^ ", BXOR), ast.BitAnd: (" & ", BAND),
          ast.FloorDiv: (" // ", TERM), ast.Pow: (" ** ", POWER)}
_AUG = {op: f" {text.strip()}= " for op, (text, _) in _BINOP.items()}
_UNARY = {ast.Invert: ("~", FACTOR), ast.Not: ("not ", NOT), ast.UAdd: ("+", FACTOR), ast.USub: ("-", FACTOR)}
_CMP = {ast.Eq: " == ", ast.NotEq: " != ", ast.Lt: " < ", ast.LtE: " <= ", ast.Gt: " > ", ast.GtE: " >= ",
        ast.Is: " is ", ast.IsNot: " is not ", ast.In: " in ", ast.NotIn: " not in "}
_INFSTR = "1e309"  # ast._INFSTR: "1e" + repr(sys.float_info.max_10_exp + 1)


class Unsupported(Exception):
    """A statement this writer does not handle: unparse the tree with ``ast.unparse``."""


# expressions: E(node, precedence the parent gave it) -> text; ast._Unparser's default is TEST

def E(node: ast.expr, prec: int = TEST) -> str:
    kind = type(node)
    if kind is _Name:  # names and plain numbers are most leaves: no call for them
        return node.id
    if kind is _Constant and type(node.value) is int and node.kind is None:
        return repr(node.value)
    return _EXPR.get(kind, _delegate)(node, prec)


_Name, _Constant = ast.Name, ast.Constant


def _delegate(node: ast.expr, prec: int) -> str:
    """An expression not written here (f-strings, await, yield): ast's own writer, which depends on
    nothing but the node and its precedence for an expression."""
    unparser = ast._Unparser()  # type: ignore[attr-defined]
    unparser.set_precedence(prec, node)
    return unparser.visit(node)


def _binop(node: ast.BinOp, prec: int) -> str:
    text, own = _BINOP[type(node.op)]
    if own == POWER:  # right-associative
        s = E(node.left, POWER + 1) + text + E(node.right, POWER)
    else:
        s = E(node.left, own) + text + E(node.right, own + 1)
    return "(" + s + ")" if prec > own else s


def _constant(node: ast.Constant, prec: int) -> str:
    value = node.value
    if value is ...:
        return "..."
    kind = type(value)
    if kind is tuple:
        raise Unsupported("tuple constant")
    if kind is float or kind is complex:
        text = repr(value).replace("inf", _INFSTR).replace("nan", f"({_INFSTR}-{_INFSTR})")
    else:
        text = repr(value)
    return "u" + text if node.kind == "u" else text


def _unary(node: ast.UnaryOp, prec: int) -> str:
    text, own = _UNARY[type(node.op)]
    s = text + E(node.operand, own)
    return "(" + s + ")" if prec > own else s


def _compare(node: ast.Compare, prec: int) -> str:
    s = E(node.left, EXPR) + "".join(_CMP[type(op)] + E(c, EXPR) for op, c in zip(node.ops, node.comparators))
    return "(" + s + ")" if prec > CMP else s


def _boolop(node: ast.BoolOp, prec: int) -> str:
    own = AND if type(node.op) is ast.And else OR
    level, parts = own, []
    for value in node.values:  # as ast._Unparser: each operand one level higher than the last
        level = min(level + 1, ATOM)
        parts.append(E(value, level))
    s = (" and " if own == AND else " or ").join(parts)
    return "(" + s + ")" if prec > own else s


def _items(elts: list[ast.expr]) -> str:
    return E(elts[0]) + "," if len(elts) == 1 else ", ".join([E(e) for e in elts])


def _call(node: ast.Call, prec: int) -> str:
    parts = [E(a) for a in node.args]
    parts += ["**" + E(k.value) if k.arg is None else k.arg + "=" + E(k.value) for k in node.keywords]
    return E(node.func, ATOM) + "(" + ", ".join(parts) + ")"


def _attribute(node: ast.Attribute, prec: int) -> str:
    value = node.value
    space = " " if type(value) is ast.Constant and isinstance(value.value, int) else ""  # 3 .real
    return E(value, ATOM) + space + "." + node.attr


def _subscript(node: ast.Subscript, prec: int) -> str:
    index = node.slice
    inner = _items(index.elts) if type(index) is ast.Tuple and index.elts else E(index)
    return E(node.value, ATOM) + "[" + inner + "]"


def _slice(node: ast.Slice, prec: int) -> str:
    s = (E(node.lower) if node.lower else "") + ":" + (E(node.upper) if node.upper else "")
    return s + ":" + E(node.step) if node.step else s


def _tuple(node: ast.Tuple, prec: int) -> str:
    s = _items(node.elts) if node.elts else ""
    return "(" + s + ")" if not node.elts or prec > TUPLE else s


def _set(node: ast.Set, prec: int) -> str:
    return "{" + ", ".join([E(e) for e in node.elts]) + "}" if node.elts else "{*()}"


def _dict(node: ast.Dict, prec: int) -> str:
    return "{" + ", ".join(["**" + E(v, EXPR) if k is None else E(k) + ": " + E(v)
                            for k, v in zip(node.keys, node.values)]) + "}"


def _generators(generators: list[ast.comprehension]) -> str:
    parts = []
    for gen in generators:
        parts.append((" async for " if gen.is_async else " for ") + E(gen.target, TUPLE) + " in " + E(gen.iter, OR))
        parts.extend(" if " + E(clause, OR) for clause in gen.ifs)
    return "".join(parts)


def _ifexp(node: ast.IfExp, prec: int) -> str:
    s = E(node.body, OR) + " if " + E(node.test, OR) + " else " + E(node.orelse, TEST)
    return "(" + s + ")" if prec > TEST else s


def _lambda(node: ast.Lambda, prec: int) -> str:
    args = _arguments(node.args)
    s = "lambda" + (" " + args if args else "") + ": " + E(node.body, TEST)
    return "(" + s + ")" if prec > TEST else s


def _named(node: ast.NamedExpr, prec: int) -> str:
    s = E(node.target, ATOM) + " := " + E(node.value, ATOM)
    return "(" + s + ")" if prec > NAMED_EXPR else s


def _arg(a: ast.arg) -> str:
    return a.arg + (": " + E(a.annotation) if a.annotation else "")


def _arguments(node: ast.arguments) -> str:
    parts = []
    positional = node.posonlyargs + node.args
    defaults = [None] * (len(positional) - len(node.defaults)) + node.defaults
    for index, (a, default) in enumerate(zip(positional, defaults), 1):
        parts.append(_arg(a) + ("=" + E(default) if default else ""))
        if index == len(node.posonlyargs):
            parts[-1] += ", /"
    if node.vararg or node.kwonlyargs:
        parts.append("*" + (_arg(node.vararg) if node.vararg else ""))
    for a, default in zip(node.kwonlyargs, node.kw_defaults):
        parts.append(_arg(a) + ("=" + E(default) if default else ""))
    if node.kwarg:
        parts.append("**" + _arg(node.kwarg))
    return ", ".join(parts)


_EXPR = {
    ast.Name: lambda node, prec: node.id, ast.Constant: _constant, ast.BinOp: _binop, ast.UnaryOp: _unary,
    ast.Compare: _compare, ast.BoolOp: _boolop, ast.Call: _call, ast.Attribute: _attribute,
    ast.Subscript: _subscript, ast.Slice: _slice, ast.Tuple: _tuple, ast.Set: _set, ast.Dict: _dict,
    ast.List: lambda node, prec: "[" + ", ".join([E(e) for e in node.elts]) + "]",
    ast.ListComp: lambda node, prec: "[" + E(node.elt) + _generators(node.generators) + "]",
    ast.GeneratorExp: lambda node, prec: "(" + E(node.elt) + _generators(node.generators) + ")",
    ast.SetComp: lambda node, prec: "{" + E(node.elt) + _generators(node.generators) + "}",
    ast.DictComp: lambda node, prec: "{" + E(node.key) + ": " + E(node.value) + _generators(node.generators) + "}",
    ast.Starred: lambda node, prec: "*" + E(node.value, EXPR), ast.IfExp: _ifexp, ast.Lambda: _lambda,
    ast.NamedExpr: _named,
}


# statements: as ast._Unparser, every statement starts with fill(): a newline unless nothing has
# been written yet, then the indentation; a def or class adds one more newline before itself

def unparse(tree: ast.Module) -> str:
    if tree.type_ignores:
        raise Unsupported("type: ignore comments")
    first = tree.body[0] if tree.body else None  # a docstring is written differently; rename() removed them
    if type(first) is ast.Expr and type(first.value) is ast.Constant and isinstance(first.value.value, str):
        raise Unsupported("docstring")
    out: list[str] = []
    _body(tree.body, out, "")
    return "".join(out)


def _fill(out: list[str], indent: str, text: str) -> None:
    out.append("\n" + indent + text if out else indent + text)


def _body(body: list[ast.stmt], out: list[str], indent: str) -> None:
    for node in body:
        _STMT.get(type(node), _unsupported)(node, out, indent)


def _unsupported(node: ast.stmt, out: list[str], indent: str) -> None:
    raise Unsupported(type(node).__name__)


def _block(out: list[str], indent: str, head: str, body: list[ast.stmt]) -> None:
    _fill(out, indent, head + ":")
    _body(body, out, indent + "    ")


def _assign(node: ast.Assign, out: list[str], indent: str) -> None:
    if node.type_comment:
        raise Unsupported("type comment")
    _fill(out, indent, "".join([E(t, TUPLE) + " = " for t in node.targets]) + E(node.value))


def _annassign(node: ast.AnnAssign, out: list[str], indent: str) -> None:
    target = E(node.target)
    if not node.simple and type(node.target) is ast.Name:
        target = "(" + target + ")"
    _fill(out, indent, target + ": " + E(node.annotation) + (" = " + E(node.value) if node.value else ""))


def _raise(node: ast.Raise, out: list[str], indent: str) -> None:
    if not node.exc:
        if node.cause:
            raise Unsupported("raise from without an exception")
        return _fill(out, indent, "raise")
    _fill(out, indent, "raise " + E(node.exc) + (" from " + E(node.cause) if node.cause else ""))


def _alias(a: ast.alias) -> str:
    return a.name + (" as " + a.asname if a.asname else "")


def _if(node: ast.If, out: list[str], indent: str) -> None:
    _block(out, indent, "if " + E(node.test), node.body)
    while node.orelse and len(node.orelse) == 1 and type(node.orelse[0]) is ast.If:  # elif
        node = node.orelse[0]
        _block(out, indent, "elif " + E(node.test), node.body)
    if node.orelse:
        _block(out, indent, "else", node.orelse)


def _loop(node: ast.For | ast.AsyncFor | ast.While, out: list[str], indent: str) -> None:
    if type(node) is ast.While:
        head = "while " + E(node.test)
    else:
        if node.type_comment:
            raise Unsupported("type comment")
        head = ("async for " if type(node) is ast.AsyncFor else "for ") + E(node.target, TUPLE) + " in " + E(node.iter)
    _block(out, indent, head, node.body)
    if node.orelse:
        _block(out, indent, "else", node.orelse)


def _with(node: ast.With | ast.AsyncWith, out: list[str], indent: str) -> None:
    if node.type_comment:
        raise Unsupported("type comment")
    items = ", ".join([E(i.context_expr) + (" as " + E(i.optional_vars) if i.optional_vars else "")
                       for i in node.items])
    _block(out, indent, ("async with " if type(node) is ast.AsyncWith else "with ") + items, node.body)


def _try(node: ast.Try, out: list[str], indent: str) -> None:
    _block(out, indent, "try", node.body)
    for handler in node.handlers:
        head = "except" + (" " + E(handler.type) if handler.type else "")
        head += " as " + handler.name if handler.name else ""
        _block(out, indent, head, handler.body)
    if node.orelse:
        _block(out, indent, "else", node.orelse)
    if node.finalbody:
        _block(out, indent, "finally", node.finalbody)


def _decorated(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, out: list[str], indent: str) -> None:
    if out:
        out.append("\n")
    for decorator in node.decorator_list:
        _fill(out, indent, "@" + E(decorator))
    kind = type(node)
    if getattr(node, "type_params", None):  # 3.12: class C[T], def f[T]
        raise Unsupported("type parameters")
    if kind is ast.ClassDef:
        parts = [E(b) for b in node.bases]
        parts += ["**" + E(k.value) if k.arg is None else k.arg + "=" + E(k.value) for k in node.keywords]
        head = "class " + node.name + ("(" + ", ".join(parts) + ")" if parts else "")
    else:
        if node.type_comment:
            raise Unsupported("type comment")
        head = ("def " if kind is ast.FunctionDef else "async def ") + node.name + "(" + _arguments(node.args) + ")"
        if node.returns:
            head += " -> " + E(node.returns)
    body = node.body
    first = body[0] if body else None  # a docstring is written differently; rename() removed them
    if type(first) is ast.Expr and type(first.value) is ast.Constant and isinstance(first.value.value, str):
        raise Unsupported("docstring")
    _block(out, indent, head, body)


_STMT = {
    ast.Assign: _assign, ast.AnnAssign: _annassign,
    ast.Expr: lambda node, out, indent: _fill(out, indent, E(node.value, YIELD)),
    ast.AugAssign: lambda node, out, indent: _fill(out, indent, E(node.target) + _AUG[type(node.op)] + E(node.value)),
    ast.Return: lambda node, out, indent: _fill(out, indent, "return " + E(node.value) if node.value else "return"),
    ast.Pass: lambda node, out, indent: _fill(out, indent, "pass"),
    ast.Break: lambda node, out, indent: _fill(out, indent, "break"),
    ast.Continue: lambda node, out, indent: _fill(out, indent, "continue"),
    ast.Delete: lambda node, out, indent: _fill(out, indent, "del " + ", ".join([E(t) for t in node.targets])),
    ast.Assert: lambda node, out, indent: _fill(out, indent, "assert " + E(node.test)
                                                 + (", " + E(node.msg) if node.msg else "")),
    ast.Global: lambda node, out, indent: _fill(out, indent, "global " + ", ".join(node.names)),
    ast.Nonlocal: lambda node, out, indent: _fill(out, indent, "nonlocal " + ", ".join(node.names)),
    ast.Raise: _raise,
    ast.Import: lambda node, out, indent: _fill(out, indent, "import " + ", ".join([_alias(a) for a in node.names])),
    ast.ImportFrom: lambda node, out, indent: _fill(out, indent, "from " + "." * (node.level or 0) + (node.module or "")
                                                     + " import " + ", ".join([_alias(a) for a in node.names])),
    ast.If: _if, ast.For: _loop, ast.AsyncFor: _loop, ast.While: _loop, ast.With: _with, ast.AsyncWith: _with,
    ast.Try: _try, ast.FunctionDef: _decorated, ast.AsyncFunctionDef: _decorated, ast.ClassDef: _decorated,
}

# Every construct written above, for canonical.fast_path()'s check against ast.unparse.
PROBE = '''"""module docstring"""
import os.path as osp, math
from .. import x as y
from collections import Counter
@dec(1)
@other.attr
def solution(a, b: int = 2, /, c=3, *args, d, e=4, **kw) -> float:
    """docstring"""
    global g
    nonlocal_h = lambda p, q=1, *r, s, **t: p + q
    total: int = a + b - c * d / e // 2 % 3 @ 4 ** -5 ** 6
    total += 1; total -= ~a; total **= +b; total <<= 1 >> 2 | 3 ^ 4 & 5
    (w): int
    x, y2 = y2, x = 1, 2
    values = [i for i in range(10) if i % 2 if i] + [*a, *b]
    pairs = {k: v for k, v in kw.items()} | {**kw, 'a': 1} | {1, 2} | {*()}
    gen = sum((i * 2 for i in values), start=0)
    sets = {i async for i in aiter()} if a else None
    if not a and b or c and not (d or e) and (a if b else c):
        pass
    elif a < b <= c > d >= e == f != g is h is not i in j not in k:
        return (a, b)
    elif (n := len(values)) > 10:
        return ()
    else:
        return a[1:2, ::3], a[1:], a[:, 1], a[(1, 2)], a[()], a[1,]
    for i, j in zip(a, b):
        continue
    else:
        break
    while True:
        del a[0], b.c
    else:
        assert a, 'message'
    with open(a) as f, open(b):
        raise ValueError('x') from None
    try:
        raise
    except (ValueError, TypeError) as error:
        print(error, sep='', end="\\n", flush=True, *a, **kw)
    except Exception:
        print(3 .real, 1.5.real, 1e400, -1e400j, 2j, b'bytes', 'it\\'s', "say \\"hi\\"", ..., True, None, u'u')
    else:
        f(x=lambda: 0, y=(yield), z=(lambda: (yield from g)))
    finally:
        print(f'{a!r:>{b}} and {c + 1}', -(-1), (-1) ** 2, -1 ** 2, not not a, (a, b)[0], (1).real)
    return total
solution(x=1, a=2)
a = b = c[d] = e.f = [g, *h] = 0


class Point(Base, metaclass=Meta):
    \'\'\'docstring\'\'\'

    def method(self):

        def inner():
            nonlocal self
            return self
        return inner
async def main():
    async with a as b:
        await b
    async for i in b:
        print(await i)
'''
