"""Two real daemons on one fresh PostgreSQL database (tests/cluster/harness.py)."""

from __future__ import annotations

import pytest

from tests.cluster.harness import Cluster

pytestmark = pytest.mark.postgres


@pytest.fixture
def cluster(tmp_path, pg_url):
    pair = Cluster(tmp_path, pg_url, 2)
    yield pair
    pair.close()
