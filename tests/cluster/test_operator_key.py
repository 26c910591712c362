"""The operator key on PostgreSQL: one for the database, made by the first daemon, accepted by all, never
overwritten by a second daemon in the same folder."""

from __future__ import annotations

import pytest

from tests.cluster.harness import Cluster, call, seed_site

pytestmark = pytest.mark.postgres


def works(daemon, key: str, site_id: str) -> bool:
    return call(daemon, "GET", f"/ext/v1/event-log?site_id={site_id}", key=key)[0] == 200


def test_two_daemons_in_one_folder_share_one_operator_key(tmp_path, pg_url):
    cluster = Cluster(tmp_path, pg_url, 3)
    a, b, c = cluster
    b.tmp = a.tmp  # b runs in a's folder (its own config file and port): both would write ./var/operator.key
    try:
        site_id = seed_site(a)
        cluster.first.cli("migrate")
        a.start()
        key_file = a.tmp / "var" / "operator.key"
        key = key_file.read_text().strip()
        assert oct(key_file.stat().st_mode & 0o777) == "0o600"
        b.start()
        c.start()
        assert key_file.read_text().strip() == key  # not overwritten
        assert not (c.tmp / "var" / "operator.key").exists()  # c never knew it: it writes nothing
        assert all(works(d, key, site_id) for d in cluster)
        assert not works(c, key[:-2] + "xx", site_id)
        assert b.stop() == 0
        assert key_file.read_text().strip() == key and works(a, key, site_id)  # b's stop takes nothing away
        assert "operator\toperator (local)" in a.cli("api-key", "list").stdout
        assert "hash" not in a.cli("api-key", "list").stdout and key not in a.log.read_text()

        a.cli("api-key", "revoke", "operator")  # retired: the next daemon to start makes another
        assert a.stop() == 0 and c.stop() == 0
        a.start()
        fresh = key_file.read_text().strip()
        assert fresh != key and works(a, fresh, site_id) and not works(a, key, site_id)
        assert a.stop() == 0
    finally:
        cluster.close()
