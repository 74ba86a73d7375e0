"""A bounded LRU of parsed and validated documents, keyed by query text alone.

Validation depends only on the text, the schema and the limits (fixed per cache), so the outcome (success or
errors) can be reused, and so can what the text asks for beyond a single result (@defer, @stream). A document
refused for a limit is refused again from the cache.
"""

from collections import OrderedDict
from dataclasses import dataclass

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate

from livegql.core.config import Settings
from livegql.engine.incremental_rules import VALIDATION_RULES, uses_incremental_delivery
from livegql.engine.limit_rules import DocumentLimits, token_limit_error


@dataclass(frozen=True, slots=True)
class CachedDocument:
    """A parse+validate outcome: either a document or the errors that stopped it."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]
    incremental: bool = False  # the document uses @defer or @stream


class DocumentCache:
    """Parse and validate each distinct query text once; failures are cached too (they are deterministic)."""

    def __init__(self, schema: GraphQLSchema, max_size: int, limits: DocumentLimits | None = None) -> None:
        self._schema = schema
        self._max_size = max_size
        self.limits = limits if limits is not None else DocumentLimits.from_settings(Settings())
        self._rules = (*VALIDATION_RULES, *self.limits.rules())
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
            # Comments are kept as tokens by the parser, so they are bounded by the same number.
            document = parse(query, max_lexical_tokens=self.limits.max_tokens, max_comments=self.limits.max_tokens)
        except GraphQLError as error:
            return CachedDocument(None, (token_limit_error(error, self.limits.max_tokens),))
        errors = validate(self._schema, document, self._rules, hide_suggestions=not self.limits.suggestions)
        if errors:
            return CachedDocument(None, tuple(errors))
        return CachedDocument(document, (), uses_incremental_delivery(query, document))
