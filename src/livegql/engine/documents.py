"""A bounded LRU of parsed and validated documents, keyed by query text alone.

Validation depends only on the text and the schema, so the outcome (success or errors) can be reused, and so can
what the text asks for beyond a single result (@defer, @stream).
"""

from collections import OrderedDict
from dataclasses import dataclass

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate

from livegql.engine.incremental_rules import VALIDATION_RULES, uses_incremental_delivery


@dataclass(frozen=True, slots=True)
class CachedDocument:
    """A parse+validate outcome: either a document or the errors that stopped it."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]
    incremental: bool = False  # the document uses @defer or @stream


class DocumentCache:
    """Parse and validate each distinct query text once; failures are cached too (they are deterministic)."""

    def __init__(self, schema: GraphQLSchema, max_size: int) -> None:
        self._schema = schema
        self._max_size = max_size
        self._entries: OrderedDict[str, CachedDocument] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, query: str) -> CachedDocument:
        entry = self._entries.get(query)
        if entry is not None:
            self._entries.move_to_end(query)
            return entry
        entry = self._load(query)
        self._entries[query] = entry
        if len(self._entries) > self._max_size:
            self._entries.popitem(last=False)
        return entry

    def _load(self, query: str) -> CachedDocument:
        try:
            document = parse(query)
        except GraphQLError as error:
            return CachedDocument(None, (error,))
        errors = validate(self._schema, document, VALIDATION_RULES)
        if errors:
            return CachedDocument(None, tuple(errors))
        return CachedDocument(document, (), uses_incremental_delivery(query, document))
