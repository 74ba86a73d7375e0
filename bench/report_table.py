"""Markdown tables: one row per server, its values at the columns' paths, and each peer's ratio to livegql (and to
the `floor` server, where it ran and the column asks for it)."""

from dataclasses import dataclass
from typing import Any

BASELINE = "livegql"
FLOOR = "floor"  # the raw-ASGI server that does no GraphQL: the lower bound of the Python servers' cost


@dataclass(frozen=True)
class Column:
    header: str
    path: tuple[str, ...]
    digits: int = 0
    ratio: bool = False  # follow with a "vs livegql" column
    floor: bool = False  # and with a "vs floor" column, when the floor server ran


def dig(result: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = result
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _number(value: Any, digits: int) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return f"{value:,.{digits}f}"


def _ratio(value: Any, base: Any) -> str:
    if not isinstance(value, int | float) or not isinstance(base, int | float) or base == 0:
        return "-"
    return f"{value / base:.2f}x"


def _usable(result: dict[str, Any] | None) -> bool:
    return result is not None and "error" not in result and "skipped" not in result


def table(results: dict[str, dict[str, Any]], columns: list[Column]) -> list[str]:
    floor = results.get(FLOOR) if _usable(results.get(FLOOR)) else None
    headers = ["server"]
    for column in columns:
        headers += [column.header]
        headers += ["vs livegql"] if column.ratio else []
        headers += ["vs floor"] if column.floor and floor is not None else []
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    base = results.get(BASELINE, {})
    for name, result in results.items():
        if "error" in result or "skipped" in result:
            reason = f"failed: {result['error'][:100]}" if "error" in result else f"skipped: {result['skipped']}"
            cells = [reason] + [""] * (len(headers) - 2)
        else:
            cells = []
            for column in columns:
                value = dig(result, column.path)
                cells.append(_number(value, column.digits))
                if column.ratio:
                    cells.append(_ratio(value, dig(base, column.path)))
                if column.floor and floor is not None:
                    cells.append(_ratio(value, dig(floor, column.path)))
        lines.append("| " + " | ".join([name, *cells]) + " |")
    return lines
