"""HTTP/1.1 response heads, parsed just enough for the benchmark clients (status, headers, head size)."""


def parse_head(buffer: bytes | bytearray) -> tuple[int, dict[bytes, bytes], int] | None:
    """(status, lower-cased headers, bytes up to and including the blank line), or None if incomplete."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = bytes(buffer[:end]).split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, end + 4
