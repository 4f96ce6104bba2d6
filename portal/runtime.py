"""The long-running processes' heap: the web server's and the worker's objects that live as long
as the process (modules, URL patterns, serializers' fields, models' metadata) are moved out of
the cyclic garbage collector's sight once they are loaded, and the collector runs less often.

Measured (bench/api.py): Python's defaults collected the whole heap of a Django process every
few requests, a sixth of an API submission's CPU (7.3–8.1 → 5.8–6.2 ms per submission).
"""

from __future__ import annotations

import gc
import os

#: Collector thresholds (generations 0, 1, 2); ``KOMEK_GC_THRESHOLD=700,10,10`` restores
#: Python's defaults.
DEFAULT_THRESHOLD = (10_000, 50, 100)


def threshold() -> tuple[int, int, int]:
    raw = os.environ.get("KOMEK_GC_THRESHOLD", "")
    if not raw:
        return DEFAULT_THRESHOLD
    message = "KOMEK_GC_THRESHOLD: three whole numbers, e.g. 10000,50,100"
    try:
        parts = [int(p) for p in raw.split(",")]
    except ValueError:
        raise ValueError(message) from None
    if len(parts) != 3 or min(parts) < 0:
        raise ValueError(message)
    return parts[0], parts[1], parts[2]


def settle_heap() -> None:
    """Call once the application is loaded (after a fork, in the process that serves)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*threshold())
