"""Reading a process's memory, CPU time and CPU affinity (Linux only, as is the benchmark)."""

import os
import time

_TICKS = os.sysconf("SC_CLK_TCK")
_CPUCLOCK_SCHED = 2  # Linux's process-wide CPU clock: all threads, including those that have exited


def rss_bytes(pid: int) -> int:
    """Resident set size (VmRSS) of `pid`."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _process_clock(pid: int) -> int:
    """The clock id Linux derives from a pid (MAKE_PROCESS_CPUCLOCK): user plus system time of the whole thread
    group, in nanoseconds."""
    return (~pid << 3) | _CPUCLOCK_SCHED


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time `pid` has used so far, all threads included.

    Read from the process's CPU clock (nanosecond resolution), so even a window of a few milliseconds divided by
    its deliveries is meaningful; falls back to /proc/<pid>/stat (clock ticks, usually 10 ms) where that clock
    cannot be read.
    """
    try:
        return time.clock_gettime_ns(_process_clock(pid)) / 1e9
    except OSError:
        pass
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        # The command name may contain spaces; the numeric fields start after its closing parenthesis.
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def affinity(pid: int) -> list[int]:
    """The CPUs `pid` (its main thread) may run on."""
    return sorted(os.sched_getaffinity(pid))


_TCP_STATES = {
    "01": "ESTABLISHED",
    "02": "SYN_SENT",
    "03": "SYN_RECV",
    "04": "FIN_WAIT1",
    "05": "FIN_WAIT2",
    "06": "TIME_WAIT",
    "07": "CLOSE",
    "08": "CLOSE_WAIT",
    "09": "LAST_ACK",
    "0A": "LISTEN",
    "0B": "CLOSING",
}


def tcp_socket(local_port: int, remote_port: int) -> dict[str, str | int] | None:
    """The IPv4 socket from `local_port` to `remote_port` in this network namespace (/proc/net/tcp): its state,
    the bytes it has queued to send (unsent or unacknowledged) and the bytes received but not yet read.
    None if there is none (closed and gone)."""
    ends = (f":{local_port:04X}", f":{remote_port:04X}")
    with open("/proc/net/tcp", encoding="ascii") as table:
        for line in table:
            fields = line.split()
            if len(fields) > 4 and fields[1].endswith(ends[0]) and fields[2].endswith(ends[1]):
                sending, _, unread = fields[4].partition(":")
                state = _TCP_STATES.get(fields[3], fields[3])
                return {"state": state, "send_queue_bytes": int(sending, 16), "receive_queue_bytes": int(unread, 16)}
    return None
