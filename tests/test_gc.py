"""An inbound text leaves no reference cycles behind: everything it made is freed by reference counting.

The daemon raises the cyclic collector's first threshold (gateway/daemon/serve.py ``YOUNG_OBJECTS``) because
the collector found nothing to free in a text's objects; a change that makes a cycle per text (an exception
kept with its traceback, a callback holding its own future) would let garbage pile up between passes.
"""

from __future__ import annotations

import gc

from tests.conftest import OTHER_PHONE, PHONE
from tests.helpers import post_alarm, text


async def test_texts_of_every_kind_leave_no_cyclic_garbage(client, auth, site, contact):
    await post_alarm(client, auth, site.id)
    bodies = [(OTHER_PHONE, "HELP"), (PHONE, "hello?"), (PHONE, "STATUS"), (PHONE, "garbage")]
    for phone, body in bodies * 3:  # warm: caches, prepared statements, lazily built tables
        await text(client, phone, body)
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for phone, body in bodies * 10 + [(PHONE, "YES")]:
            await text(client, phone, body)
        gc.collect()
        garbage = [type(o).__qualname__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    # 41 texts: a cycle made per text would leave at least 41 objects here.
    assert len(garbage) < 10, sorted(set(garbage))
