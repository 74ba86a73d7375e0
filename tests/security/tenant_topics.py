"""Hostile topic names and tenant namespaces for the isolation tests: wildcard and separator characters, glob
partners (`a*` and `ab`), names that a naive `{prefix}{kind}:{topic}` key scheme would make collide."""

import string

from hypothesis import strategies as st

HOSTILE = "*?[]^-\\:./{}#>+ \n\x00" + "ab01" + "\r\t\u00e9\u2603\U0001d11e\u200b\ufeff"
"""Glob metacharacters (`*?[]^-\\`), namespace separators (`:./{}#>+`, space), control characters, letters and
digits to be matched, and unicode (accented, BMP symbol, astral, zero-width, BOM)."""

KINDS = ("events:", "stream:", "dedupe:")
"""The words a Redis key or channel name carries after the prefix (see livegql.broker.redis_topics)."""

WORDS = (*KINDS, "livegql:", "*", "?", "[ab]", "[!a]", "[^a]", "[a-b]", "\\*", "#1", "#", ":", "{x}", "a", "b")

GLOBS = ("a*", "ab", "a", "a?", "[ab]", "b", "*", "?", "[a-b]", "[!a]", "[^a]", "\\*", "a\\*", "a*b", "a\\?", "a]")
"""Topics that are glob patterns matching one another: each would take the others' events if it were PSUBSCRIBEd."""

SEPARATED = ("", " ", "\n", "\x00", "a\x00b", "a:b", "a:b:c", "b:c", "c", "a.b", "a/b", "{a}", "{a}b", "a#1", "a#2")

LONG = "\U0001d11e:*" * 20_000
"""60,000 code points (180,000 bytes of UTF-8): far beyond any name a broker would shorten."""


class Universe:
    """Tenants (key-prefix suffixes; in memory, just distinct `PubSub`s) and the topics each subscribes to.

    Not a dataclass: hypothesis prints a failing example by its repr, which shortens the long names.
    """

    __slots__ = ("tenants", "topics")

    def __init__(self, tenants: tuple[str, ...], topics: tuple[str, ...]) -> None:
        self.tenants, self.topics = tenants, topics

    def __repr__(self) -> str:
        return f"Universe(tenants={_short_all(self.tenants)}, topics={_short_all(self.topics)})"


def short(name: str, limit: int = 40) -> str:
    """A name for a message: its repr, cut to `limit` characters with its length when longer."""
    return repr(name) if len(name) <= limit else f"{name[:limit]!r}...({len(name)} chars)"


def _short_all(names: tuple[str, ...]) -> str:
    return "(" + ", ".join(short(name) for name in names) + ")"


def glob_partners(topic: str) -> list[str]:
    """Names a glob reading of `topic` would confuse with it: patterns matching it and strings it matches."""
    literal = topic.replace("*", "").replace("?", "a").replace("[", "").replace("]", "")
    last_any = topic[:-1] + "?" if topic else "?"
    return [topic + "*", topic + "?", last_any, literal, topic + "a"]


def naive_splits(rest: str) -> tuple[list[str], list[str]]:
    """Tenant suffixes and topics whose naive names coincide: `"" + kind + rest` = `w + kind + t` for each
    occurrence of a kind word in `kind + rest` (under `{prefix}{kind}{topic}` all those pairs share a name)."""
    suffixes, topics = [""], []
    for kind in KINDS:
        whole = kind + rest
        for index in range(len(whole)):
            if whole.startswith(kind, index):
                suffixes.append(whole[:index])
                topics.append(whole[index + len(kind) :])
    return suffixes, topics


def dedupe_partner_key(topic: str, number: int, topics: tuple[str, ...]) -> str:
    """An idempotency key for the `number`th publish to `topic`: when a longer topic `topic:y` exists, `y:n`,
    which a naive `dedupe:{topic}:{key}` would confuse with that topic's key `n`."""
    for other in topics:
        if other != topic and other.startswith(topic + ":"):
            return f"{other[len(topic) + 1 :]}:{number}"
    return str(number)


_short = st.text(alphabet=HOSTILE, max_size=8)
_worded = st.lists(st.sampled_from(WORDS + tuple(HOSTILE)), max_size=5).map("".join)
_long = st.builds(lambda unit, times: unit * times, st.text(HOSTILE, min_size=1, max_size=3), st.integers(200, 3000))
topic_names = st.one_of(_short, _worded, _worded, _long)
"""One hostile topic name: short random, built of separator and glob words, or long (a few thousand chars)."""


def _unique(names: list[str], limit: int) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))[:limit]


@st.composite
def universes(draw: st.DrawFn, max_topics: int = 24, max_tenants: int = 4) -> Universe:
    """Random topics with their glob partners, plus tenant/topic pairs a naive scheme would merge."""
    rest = draw(_worded)
    suffixes, split_topics = naive_splits(rest)
    extra = draw(st.lists(st.text(alphabet=string.ascii_lowercase + ":" + "".join(KINDS), max_size=6), max_size=2))
    topics: list[str] = list(split_topics)
    for topic in draw(st.lists(topic_names, min_size=1, max_size=6)):
        topics.append(topic)
        topics += draw(st.lists(st.sampled_from(glob_partners(topic)), max_size=2, unique=True))
    topics += draw(st.lists(st.sampled_from(GLOBS + SEPARATED), max_size=6, unique=True))
    return Universe(_unique(suffixes + extra, max_tenants), _unique(topics, max_topics))


FIXED = Universe(
    tenants=("", "a", "a:b", "events:", "stream:x:"),
    topics=(*GLOBS, *SEPARATED, "events:c", "x:stream:c", "events:livegql:invalidate", LONG),
)
"""The named cases, always run: glob partners, tenant `a` with topic `b:c` against tenant `a:b` with topic `c`, a
tenant whose prefix extends another's by a kind word (`events:`), the reserved topic seen through such a tenant,
a 60,000-char name."""
