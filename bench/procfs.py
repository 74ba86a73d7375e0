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
