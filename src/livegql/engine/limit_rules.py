"""Cost limits on documents, chosen from Settings: tokens (enforced by the parser), and depth, aliases, root fields
and operations per document (validation rules); plus production mode's introspection and suggestion switches.
Every refusal is a request error with code DOCUMENT_TOO_COMPLEX that names the setting to raise."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    InlineFragmentNode,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
)

from livegql.core.config import Settings

LIMIT_CODE = "DOCUMENT_TOO_COMPLEX"

# graphql-core aborts lexing with a syntax error worded like this (3.2.14 and 3.3.2 alike); it is re-issued below
# with the setting's name and the code. tests/engine/test_limits.py guards the wording on both versions.
_PARSER_LIMIT = re.compile(r"Document contains more than \d+ (tokens|comments)\b")


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """What the document cache enforces: the cost limits and whether introspection and suggestions are allowed."""

    max_depth: int
    max_aliases: int
    max_tokens: int
    max_root_fields: int
    max_operations: int
    introspection: bool
    suggestions: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> "DocumentLimits":
        """The limits `settings` names; introspection and suggestions left at None follow `production`."""
        return cls(
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_tokens=settings.max_tokens,
            max_root_fields=settings.max_root_fields,
            max_operations=settings.max_operations_per_document,
            introspection=_unless_production(settings.introspection, settings),
            suggestions=_unless_production(settings.field_suggestions, settings),
        )

    def rules(self) -> tuple[type[ASTValidationRule], ...]:
        """The validation rules that enforce these limits (run after graphql-core's specified rules)."""
        rules: list[type[ASTValidationRule]] = [
            _bound(MaxDepthRule, self.max_depth),
            _bound(MaxAliasesRule, self.max_aliases),
            _bound(MaxRootFieldsRule, self.max_root_fields),
            _bound(MaxOperationsRule, self.max_operations),
        ]
        if not self.introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        return tuple(rules)


def _unless_production(explicit: bool | None, settings: Settings) -> bool:
    return (not settings.production) if explicit is None else explicit


def token_limit_error(error: GraphQLError, max_tokens: int) -> GraphQLError:
    """`error` from `parse(..., max_lexical_tokens=max_tokens, max_comments=max_tokens)`, re-issued naming the
    setting when it is the parser's token (or comment) limit; any other syntax error is returned as it is."""
    found = _PARSER_LIMIT.search(error.message)
    if found is None:
        return error
    message = f"Document has more than {max_tokens} {found.group(1)} (limit: Settings.max_tokens)."
    return too_complex(message, "max_tokens")


def too_complex(message: str, setting: str, node: Any = None) -> GraphQLError:
    """A refusal of a document over one of the limits, naming the setting."""
    return GraphQLError(message, node, extensions={"code": LIMIT_CODE, "setting": setting})


class _LimitRule(ASTValidationRule):
    """A rule with a bound: `_bound(Rule, n)` makes a subclass that enforces `n`."""

    limit: ClassVar[int]
    context: ValidationContext


def _bound(rule: type[_LimitRule], limit: int) -> type[_LimitRule]:
    bound: type[_LimitRule] = type(rule.__name__, (rule,), {"limit": limit})
    return bound


def _operation_label(node: OperationDefinitionNode) -> str:
    return f"Operation '{node.name.value}'" if node.name else "The anonymous operation"


class MaxDepthRule(_LimitRule):
    """No operation nests fields deeper than the limit, following fragment spreads (inline fragments add no
    level; `__typename` is a field like any other)."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        if deepest_field(node.selection_set, self.context.get_fragment, self.limit) > self.limit:
            message = (
                f"{_operation_label(node)} is nested more than {self.limit} levels deep (limit: Settings.max_depth)."
            )
            self.report_error(too_complex(message, "max_depth", node))


FragmentLookup = Callable[[str], FragmentDefinitionNode | None]


def deepest_field(selection_set: SelectionSetNode, fragments: FragmentLookup, limit: int) -> int:
    """The deepest field nesting under `selection_set`, counted no further than `limit + 1`.

    Iterative, and each fragment is entered at most once per level, so fragment cycles (refused by NoFragmentCycles
    anyway) and long chains of spreads neither loop nor recurse.
    """
    deepest = 0
    entered: set[tuple[str, int]] = set()
    pending: list[tuple[SelectionSetNode, int]] = [(selection_set, 0)]
    while pending:
        selections, depth = pending.pop()
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                deepest = max(deepest, depth + 1)
                if deepest > limit:
                    return deepest
                if selection.selection_set is not None:
                    pending.append((selection.selection_set, depth + 1))
            elif isinstance(selection, InlineFragmentNode):
                pending.append((selection.selection_set, depth))
            else:
                name = selection.name.value  # type: ignore[attr-defined]  # a FragmentSpreadNode
                fragment = fragments(name)
                if fragment is not None and (name, depth) not in entered:
                    entered.add((name, depth))
                    pending.append((fragment.selection_set, depth))
    return deepest


class MaxAliasesRule(_LimitRule):
    """The document as written has no more aliased fields than the limit (fragments are counted once each)."""

    def enter_document(self, node: DocumentNode, *_args: Any) -> None:
        self.aliases = 0

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        if node.alias is not None:
            self.aliases += 1

    def leave_document(self, node: DocumentNode, *_args: Any) -> None:
        if self.aliases > self.limit:
            message = (
                f"Document has {self.aliases} aliased fields, more than {self.limit} (limit: Settings.max_aliases)."
            )
            self.report_error(too_complex(message, "max_aliases"))


class MaxRootFieldsRule(_LimitRule):
    """No operation selects more fields at its top level than the limit, counting the fields of inline fragments
    and of fragments spread there (each distinct fragment once)."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        count = root_field_count(node.selection_set, self.context.get_fragment)
        if count > self.limit:
            message = (
                f"{_operation_label(node)} selects {count} root fields, more than {self.limit}"
                " (limit: Settings.max_root_fields)."
            )
            self.report_error(too_complex(message, "max_root_fields", node))


def root_field_count(selection_set: SelectionSetNode, fragments: FragmentLookup) -> int:
    """Fields selected at the level of `selection_set`, through inline fragments and spreads (each fragment once)."""
    count = 0
    entered: set[str] = set()
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                count += 1
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            else:
                name = selection.name.value  # type: ignore[attr-defined]  # a FragmentSpreadNode
                fragment = fragments(name)
                if fragment is not None and name not in entered:
                    entered.add(name)
                    pending.append(fragment.selection_set)
    return count


class MaxOperationsRule(_LimitRule):
    """A document defines no more operations than the limit: only one runs, the rest are only parsing cost."""

    def enter_document(self, node: DocumentNode, *_args: Any) -> None:
        count = sum(isinstance(definition, OperationDefinitionNode) for definition in node.definitions)
        if count > self.limit:
            message = (
                f"Document defines {count} operations, more than {self.limit}"
                " (limit: Settings.max_operations_per_document)."
            )
            self.report_error(too_complex(message, "max_operations_per_document"))
