"""Rewrite the Python references to a moved module on its syntax tree (libcst).

libcst rather than rope: a plan's steps run on in-memory text (an earlier step may already
have edited a file), and libcst parses and prints text losslessly, so only the names that
change differ, byte for byte. Its scope analysis tells `import config.manager` followed by
`config.manager.start()` (a module path: rewritten) from `config.manager.start()` on a
runtime object called `config` (left alone). Rope refactors files on disk through a project
folder of its own, and re-prints the imports it touches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import ImportAssignment, MetadataWrapper, PositionProvider, ScopeProvider

from sophia_cli.core.migrate.references import resolve


@dataclass(frozen=True)
class Move:
    """A module's dotted name before and after the move."""

    old: str
    new: str

    @property
    def old_parent(self) -> str:
        return self.old.rpartition(".")[0]

    @property
    def old_leaf(self) -> str:
        return self.old.rpartition(".")[2]


@dataclass
class PyEdit:
    """One rewritten reference: its line and the text before and after."""

    line: int
    old: str
    new: str


@dataclass
class PyResult:
    """What rewriting one file did: new text, edits, and places left for a human."""

    text: str
    edits: list[PyEdit] = field(default_factory=list)
    doubts: list[tuple[int, str]] = field(default_factory=list)


def relative(package: str, target: str) -> tuple[int, str | None] | None:
    """The shortest relative form of `target` seen from `package` (None: other top level)."""
    here, there = package.split(".") if package else [], target.split(".")
    if not here or here[0] != there[0]:
        return None
    common = 0
    while common < min(len(here), len(there)) and here[common] == there[common]:
        common += 1
    rest = ".".join(there[common:])
    return len(here) - common + 1, rest or None


def rewrite_python(
    text: str, move: Move, *, package_before: str | None, package_after: str | None
) -> PyResult | None:
    """Rewrite imports, module-path strings and import-bound chains; None if unparsable."""
    try:
        wrapper = MetadataWrapper(cst.parse_module(text))
    except (cst.ParserSyntaxError, RecursionError):
        return None
    bare = _BareImports(move.old)
    wrapper.module.visit(bare)
    transformer = _MoveTransformer(move, package_before, package_after, bare.found)
    new_module = wrapper.visit(transformer)
    return PyResult(text=new_module.code, edits=transformer.edits, doubts=transformer.doubts)


def _name_node(dotted: str) -> cst.Attribute | cst.Name:
    expr = cst.parse_expression(dotted)
    assert isinstance(expr, cst.Attribute | cst.Name)
    return expr


def node_code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _renamed(dotted: str, move: Move) -> str | None:
    """`dotted` with the moved module's prefix replaced, or None when it is another module."""
    if dotted == move.old:
        return move.new
    if dotted.startswith(move.old + "."):
        return move.new + dotted[len(move.old) :]
    return None


class _BareImports(cst.CSTVisitor):
    """`import a.b.c` statements without `as`: they bind `a`, so `a.b.c.x` chains depend on them."""

    def __init__(self, old: str) -> None:
        self.old = old
        self.found: set[cst.Import] = set()

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            name = get_full_name_for_node(alias.name) or ""
            if alias.asname is None and (name == self.old or name.startswith(self.old + ".")):
                self.found.add(node)
        return False


class _MoveTransformer(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (ScopeProvider, PositionProvider)

    def __init__(
        self,
        move: Move,
        package_before: str | None,
        package_after: str | None,
        bare_imports: set[cst.Import],
    ) -> None:
        super().__init__()
        self.move = move
        self.before = package_before
        self.after = package_after
        self.bare = bare_imports
        self.edits: list[PyEdit] = []
        self.doubts: list[tuple[int, str]] = []

    def _line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    # `import config.manager [as m]`
    def leave_Import(self, original: cst.Import, updated: cst.Import) -> cst.Import:
        names = []
        for alias in updated.names:
            dotted = get_full_name_for_node(alias.name) or ""
            renamed = _renamed(dotted, self.move)
            if renamed is not None:
                alias = alias.with_changes(name=_name_node(renamed))
                self.edits.append(PyEdit(self._line(original), dotted, renamed))
            names.append(alias)
        return updated.with_changes(names=names)

    # `config.manager.start()` where `config` was bound by `import config.manager`
    def leave_Attribute(
        self, original: cst.Attribute, updated: cst.Attribute
    ) -> cst.BaseExpression:
        if get_full_name_for_node(original) != self.move.old:
            return updated
        root: cst.BaseExpression = original
        while isinstance(root, cst.Attribute):
            root = root.value
        if not isinstance(root, cst.Name):
            return updated
        scope = self.get_metadata(ScopeProvider, root, None)
        if scope is None:
            return updated
        assignments = list(scope[root.value])
        imports = [a for a in assignments if isinstance(a, ImportAssignment)]
        if not any(a.node in self.bare for a in imports):
            return updated  # a runtime object's attribute chain: not a module path
        if len(imports) != len(assignments):
            self.doubts.append(
                (self._line(original), f"{root.value} is also assigned; chain left as is")
            )
            return updated
        self.edits.append(PyEdit(self._line(original), self.move.old, self.move.new))
        return _name_node(self.move.new)

    # `"config.manager.VALUE"` in mock.patch, importlib, logging names, `"config.manager:main"`
    def leave_SimpleString(
        self, original: cst.SimpleString, updated: cst.SimpleString
    ) -> cst.SimpleString:
        value = original.evaluated_value
        if not isinstance(value, str):
            return updated
        for tail in ("", ".", ":"):
            if value == self.move.old + tail or (tail and value.startswith(self.move.old + tail)):
                start = len(original.prefix) + len(original.quote)
                if not original.value[start:].startswith(self.move.old):
                    return updated  # escapes inside the name: leave it to a human
                new_value = (
                    original.value[:start]
                    + self.move.new
                    + original.value[start + len(self.move.old) :]
                )
                self.edits.append(
                    PyEdit(
                        self._line(original), value, value.replace(self.move.old, self.move.new, 1)
                    )
                )
                return updated.with_changes(value=new_value)
        return updated

    # `from config import manager, defaults`, `from .manager import x`, `from . import manager`
    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.FlattenSentinel[cst.SimpleStatementLine]:
        body: list[cst.BaseSmallStatement] = []
        extra: list[cst.BaseSmallStatement] = []
        changed = False
        for statement in updated.body:
            if not isinstance(statement, cst.ImportFrom):
                body.append(statement)
                continue
            rewritten = self._from_import(statement)
            if rewritten is None:
                body.append(statement)
                continue
            changed = True
            kept, split_off = rewritten
            if kept is not None:
                body.append(kept)
            if split_off is not None:
                extra.append(split_off)
        if not changed:
            return updated
        old_code = node_code(original).strip()
        lines: list[cst.SimpleStatementLine] = []
        if body:
            lines.append(updated.with_changes(body=_fix_semicolons(body)))
        for statement in extra:
            if lines:
                lines.append(cst.SimpleStatementLine(body=[statement]))
            else:
                lines.append(updated.with_changes(body=[statement]))
        new_code = "\n".join(node_code(line).strip() for line in lines)
        if new_code == old_code:
            return updated
        self.edits.append(PyEdit(self._line(original), old_code, new_code))
        return cst.FlattenSentinel(lines) if len(lines) > 1 else lines[0]

    def _from_import(
        self, node: cst.ImportFrom
    ) -> tuple[cst.ImportFrom | None, cst.ImportFrom | None] | None:
        """(statement kept, statement split off) or None when the import is unaffected."""
        level = len(node.relative)
        written = get_full_name_for_node(node.module) if node.module is not None else None
        package = self.before
        target = resolve(package, level, written)
        if target is None:
            return None
        renamed = _renamed(target, self.move)
        if renamed is not None:
            return self._retarget(node, renamed), None
        if target == self.move.old_parent and not isinstance(node.names, cst.ImportStar):
            if not self.move.new.count("."):
                self.doubts.append((0, f"{self.move.new} is a top-level module now: fix by hand"))
                return None
            split = self._split(node)
            if split is not None:
                return split
        if level and self.before != self.after:
            # The moved file itself: its relative imports now start from another package.
            moved = self._retarget(node, target)
            return (moved, None) if node_code(moved) != node_code(node) else None
        return None

    def _retarget(self, node: cst.ImportFrom, target: str) -> cst.ImportFrom:
        """`node` importing from `target`, relative when it was and still can be."""
        if node.relative and self.after is not None:
            form = relative(self.after, target)
            if form is not None:
                level, rest = form
                return node.with_changes(
                    relative=[cst.Dot() for _ in range(level)],
                    module=_name_node(rest) if rest else None,
                )
        return node.with_changes(relative=[], module=_name_node(target))

    def _split(
        self, node: cst.ImportFrom
    ) -> tuple[cst.ImportFrom | None, cst.ImportFrom | None] | None:
        """Take the moved module out of `from parent import a, moved, b` into its own import."""
        assert not isinstance(node.names, cst.ImportStar)
        names = list(node.names)
        hits = [a for a in names if get_full_name_for_node(a.name) == self.move.old_leaf]
        if not hits:
            return None
        alias = hits[0]
        rest = [a for a in names if a is not alias]
        new_parent, _, new_leaf = self.move.new.rpartition(".")
        bound = alias.asname.name if alias.asname is not None else None
        asname = bound
        if asname is None and new_leaf != self.move.old_leaf:
            asname = cst.Name(self.move.old_leaf)
        moved_alias = cst.ImportAlias(
            name=cst.Name(new_leaf),
            asname=cst.AsName(name=asname) if isinstance(asname, cst.Name) else None,
        )
        base = node.with_changes(
            names=[moved_alias], lpar=None, rpar=None, semicolon=cst.MaybeSentinel.DEFAULT
        )
        split_off = self._retarget(base, new_parent)
        if not rest:
            return None, split_off
        if alias is names[-1]:
            # The last name's comma holds the layout before `)`; its new last name takes it.
            rest[-1] = rest[-1].with_changes(comma=alias.comma)
        return node.with_changes(names=rest), split_off


def _fix_semicolons(body: Sequence[cst.BaseSmallStatement]) -> list[cst.BaseSmallStatement]:
    """The last statement of a line carries no semicolon."""
    fixed = list(body)
    if fixed:
        fixed[-1] = fixed[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
    return fixed
