"""Size checks every transport applies the same way."""


def exceeds_bytes(text: str | bytes, limit: int) -> bool:
    """Whether `text` is over `limit` bytes (UTF-8 for a str), without encoding it when the length decides:
    a character is one to four bytes."""
    if isinstance(text, bytes) or len(text) > limit or len(text) * 4 <= limit:
        return len(text) > limit
    return len(text.encode("utf-8", "surrogatepass")) > limit


def query_too_large_message(limit: int) -> str:
    return f"Query text exceeds {limit} bytes"
