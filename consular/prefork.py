"""Getting a process ready to fork workers that share what it has built.

A full collection in a web worker walked every object Django, DRF and the
gazetteer's city index had built at start-up (about 450,000 then; the index has
since shrunk to about 33,000 tracked objects): 150 ms with the
worker's threads stopped, which is what set the API's p99. Frozen objects are
never walked again, and the pages holding them are not written by the
collector, so forked children keep sharing them.
"""

from __future__ import annotations

import gc

from django.db import connections


def prepare_to_fork() -> None:
    """Close inherited database connections, then freeze every object built so far."""
    # A socket shared by parent and child would interleave two sessions' traffic.
    connections.close_all()
    gc.collect()
    gc.freeze()
