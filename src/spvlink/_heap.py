"""The process heap of one `spvlink link` command, tuned for arrays the size of the module.

Every pass allocates and frees arrays as large as the merged module. What such an array costs
beyond its copy is the page faults of memory the process has not touched yet: 4.5 us each on
the benchmark machine, 22,000 of them at chain 1000 (about 0.1 s). Two remedies, both only for
the command-line process (a library must not retune its host's allocator):

- glibc keeps freed memory in the heap for reuse instead of returning each large array to the
  kernel (`mallopt`), so a page is faulted once, not once per pass;
- the heap's first `HUGE_PAGE_HEAP` bytes are marked for transparent huge pages
  (`madvise(MADV_HUGEPAGE)`), so the pages the link does touch arrive 2 MiB at a time, one
  fault for 512. This is what glibc's `glibc.malloc.hugetlb=1` tunable does, which can only be
  set in the environment before the process starts.

Linux and glibc only; anywhere else, if a call fails, or under an address-space limit
(which the marked range would count against), the huge-page part is left out.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ctypes

#: Address space of the heap marked for huge pages: above the largest link measured (chain
#: 2000 peaks at 175 MB). Only address space: memory is used only where the link touches it.
HUGE_PAGE_HEAP = 512 << 20
MADV_HUGEPAGE = 14  # <linux/mman.h>
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -2, -3, -8  # <malloc.h>


def tune_for_one_link() -> bool:
    """Tune this process's heap as the module docstring says; True if the huge-page part took.

    Measured (21 alternating runs each, 2-core machine): keeping freed memory took chain 200
    from 0.220 to 0.200 s (14,100 -> 8,500 page faults); huge pages then took chain 1000 from
    0.527 to 0.469 s (21,700 -> 6,700 faults) and chain 2000 from 0.800 to 0.761 s.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        # Large arrays come from the heap rather than each from a fresh mmap...
        libc.mallopt(M_MMAP_THRESHOLD, 1 << 30)
        # ...one heap: what the reader's second thread frees is reused by the link after it...
        libc.mallopt(M_ARENA_MAX, 1)
        # ...which is not trimmed back to the kernel, and grows in large steps.
        libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)
        libc.mallopt(M_TOP_PAD, 256 << 20)
        if _address_space_limited():
            return False
        return _mark_heap_for_huge_pages(libc)
    except (OSError, AttributeError):
        return False


def _address_space_limited() -> bool:
    """True under an address-space limit (`ulimit -v`, a harness's RLIMIT_AS): the marked
    range is address space the heap keeps, and a link that fits the limit must still fit."""
    import resource

    try:
        return resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY
    except (OSError, ValueError):
        return True


def _mark_heap_for_huge_pages(libc: ctypes.CDLL) -> bool:
    """Grow the heap by `HUGE_PAGE_HEAP` of untouched memory, mark it for huge pages and free
    it again: freed, it joins the heap's top, which later allocations are carved from and
    which is never trimmed (see the thresholds above), so they land in the marked range."""
    import ctypes

    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    block = libc.malloc(HUGE_PAGE_HEAP)
    if not block:
        return False
    try:
        # madvise wants whole pages; the kernel then backs each 2 MiB-aligned stretch inside.
        page = os.sysconf("SC_PAGESIZE")
        start = -(-block // page) * page
        length = (block + HUGE_PAGE_HEAP - start) // page * page
        return bool(libc.madvise(start, length, MADV_HUGEPAGE) == 0)
    finally:
        libc.free(block)

__all__ = ["HUGE_PAGE_HEAP", "tune_for_one_link"]
