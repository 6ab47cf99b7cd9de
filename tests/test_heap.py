"""The link command's heap tuning (`spvlink._heap`), checked in a fresh process against what
the kernel reports for it in /proc/self/smaps: never mocked, since the point is what Linux and
glibc actually do with the calls."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not Path("/proc/self/smaps").exists()
    or not Path("/sys/kernel/mm/transparent_hugepage/enabled").exists(),
    reason="the heap tuning is for Linux with glibc and transparent huge pages")

# Runs in a fresh interpreter: tunes the heap, then allocates module-sized numpy arrays the
# way a pass does, and reports the smaps entry (VmFlags, AnonHugePages) of each one's memory.
# 3 MiB is chain 1000's id arrays (840,000 uint32), below the 4 MiB from which numpy advises
# huge pages for an array itself.
PROBE = r"""
import json, re, sys
import numpy as np
from spvlink._heap import tune_for_one_link

def fallbacks():
    # Huge-page faults the kernel had to serve with small pages (no free huge page), all
    # processes: nonzero growth lets a busy machine excuse an array without huge pages.
    for line in open("/proc/vmstat"):
        if line.startswith("thp_fault_fallback "):
            return int(line.split()[1])
    return 0

took = tune_for_one_link() if sys.argv[1] == "tuned" else None
before = fallbacks()
arrays = [np.ones(n, dtype=np.uint32) for n in (768 << 10, 1536 << 10)]  # 3 and 6 MiB
fell_back = fallbacks() > before
maps = []
current = None
for line in open("/proc/self/smaps"):
    m = re.match(r"([0-9a-f]+)-([0-9a-f]+) ", line)
    if m:
        current = {"lo": int(m[1], 16), "hi": int(m[2], 16)}
        maps.append(current)
    elif line.startswith(("VmFlags:", "AnonHugePages:")):
        key, value = line.split(":", 1)
        current[key] = value.split()
found = []
for a in arrays:
    address = a.__array_interface__["data"][0] + a.nbytes // 2  # the start may share a page
    vma = next(v for v in maps if v["lo"] <= address < v["hi"])
    found.append({"flags": vma["VmFlags"], "huge_kb": int(vma["AnonHugePages"][0])})
print(json.dumps({"took": took, "arrays": found, "fell_back": fell_back}))
"""


def probe(mode: str, address_space: int | None = None) -> dict:
    def limit() -> None:
        if address_space is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    r = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True,
                       check=True, preexec_fn=limit)
    return json.loads(r.stdout)


def test_module_sized_arrays_land_in_heap_marked_for_huge_pages() -> None:
    """After the tuning, arrays of a link pass come from memory marked MADV_HUGEPAGE (the
    `hg` flag) and are backed by huge pages; untuned, the same arrays are each a fresh mmap
    with no such mark, faulted in 4 KiB at a time."""
    tuned = probe("tuned")
    assert tuned["took"] is True
    assert all("hg" in a["flags"] for a in tuned["arrays"]), tuned
    modes = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    if modes.exists() and "[never]" not in modes.read_text():
        # The kernel honoured the mark: the touched arrays are backed by huge pages (unless
        # it had none free just then, which it counts).
        assert sum(a["huge_kb"] for a in tuned["arrays"]) > 0 or tuned["fell_back"], tuned
    untuned = probe("untuned")
    assert untuned["took"] is None
    assert "hg" not in untuned["arrays"][0]["flags"], untuned  # the 6 MiB one numpy marks


def test_nothing_is_reserved_under_an_address_space_limit() -> None:
    """Under `ulimit -v` (RLIMIT_AS) the marked range would be address space the heap
    keeps: a link that fits the limit untuned must fit it tuned, so nothing is marked."""
    limited = probe("tuned", address_space=8 << 30)
    assert limited["took"] is False
    assert "hg" not in limited["arrays"][0]["flags"], limited
