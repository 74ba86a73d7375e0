"""Which documents may use @defer and @stream: the validation rules livegql runs, chosen once at import.

Before graphql-core 3.3 nothing can deliver incrementally: a document using either directive is refused with an
error that says so (code INCREMENTAL_DELIVERY_UNAVAILABLE), where graphql-core would only call it unknown. On
every version a live query may not also defer or stream: each re-execution would restart the deferred work, and
a live result is always sent whole (or as a patch of the previous one).
"""

from collections.abc import Sequence
from typing import Any

from graphql import (
    ASTValidationRule,
    DirectiveNode,
    DocumentNode,
    GraphQLError,
    KnownDirectivesRule,
    Node,
    OperationDefinitionNode,
    ValidationContext,
    Visitor,
    specified_rules,
    visit,
)

from livegql.engine.graphql_compat import INCREMENTAL_DELIVERY
from livegql.engine.schema import LIVE_DIRECTIVE

INCREMENTAL_DIRECTIVE_NAMES = frozenset({"defer", "stream"})
UNAVAILABLE_CODE = "INCREMENTAL_DELIVERY_UNAVAILABLE"
LIVE_CONFLICT_CODE = "LIVE_WITH_INCREMENTAL_DELIVERY"


class IncrementalDeliveryUnavailableRule(KnownDirectivesRule):
    """graphql-core's KnownDirectivesRule, except that @defer and @stream get an error naming what they need."""

    def enter_directive(self, node: DirectiveNode, _key: Any, _parent: Any, _path: Any, ancestors: list[Node]) -> None:
        name = node.name.value
        if name not in INCREMENTAL_DIRECTIVE_NAMES:
            super().enter_directive(node, _key, _parent, _path, ancestors)
            return
        message = (
            f"@{name} is not available on this server: incremental delivery (@defer, @stream) needs"
            " graphql-core >= 3.3."
        )
        self.report_error(GraphQLError(message, node, extensions={"code": UNAVAILABLE_CODE}))


class LiveWithoutIncrementalDeliveryRule(ASTValidationRule):
    """A query marked @live uses neither @defer nor @stream, in its own selections or any fragment it spreads."""

    context: ValidationContext

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        live = next((d for d in node.directives or () if d.name.value == LIVE_DIRECTIVE.name), None)
        if live is None:
            return
        found = incremental_directives(node)
        for fragment in self.context.get_recursively_referenced_fragments(node):
            found.extend(incremental_directives(fragment))
        if found:
            names = " and ".join(sorted({f"@{directive.name.value}" for directive in found}))
            message = f"@live cannot be combined with {names}: a live query's results are sent whole."
            self.report_error(GraphQLError(message, [live, *found], extensions={"code": LIVE_CONFLICT_CODE}))


class _IncrementalDirectives(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[DirectiveNode] = []

    def enter_directive(self, node: DirectiveNode, *_args: Any) -> None:
        if node.name.value in INCREMENTAL_DIRECTIVE_NAMES:
            self.found.append(node)


def incremental_directives(node: Node) -> list[DirectiveNode]:
    """Every @defer and @stream within `node`."""
    visitor = _IncrementalDirectives()
    visit(node, visitor)
    return visitor.found


def uses_incremental_delivery(query: str, document: DocumentNode) -> bool:
    """Whether a valid document asks for incremental delivery (never, before graphql-core 3.3: it is refused)."""
    # The text check (a superset: `@ defer` is valid too) spares nearly every document the walk over its tree.
    return INCREMENTAL_DELIVERY and ("defer" in query or "stream" in query) and bool(incremental_directives(document))


def _validation_rules() -> Sequence[type[ASTValidationRule]]:
    rules = list(specified_rules)
    if not INCREMENTAL_DELIVERY:
        rules = [IncrementalDeliveryUnavailableRule if rule is KnownDirectivesRule else rule for rule in rules]
    return (*rules, LiveWithoutIncrementalDeliveryRule)


VALIDATION_RULES = _validation_rules()
"""graphql-core's specified rules with the two above: what DocumentCache validates every document with."""
