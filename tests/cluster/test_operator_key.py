"""The operator key on PostgreSQL: a stored key per daemon folder, accepted by every daemon, never
overwritten by a second daemon started in the same folder."""

from __future__ import annotations

import pytest

from tests.cluster.harness import Cluster, call, seed_site

pytestmark = pytest.mark.postgres


def works(daemon, key: str, site_id: str) -> bool:
    return call(daemon, "GET", f"/ext/v1/event-log?site_id={site_id}", key=key)[0] == 200


def test_two_daemons_in_one_folder_share_one_operator_key_and_every_daemon_takes_every_key(tmp_path, pg_url):
    cluster = Cluster(tmp_path, pg_url, 3)
    a, b, c = cluster
    b.tmp = a.tmp  # b runs in a's folder (its own config file and port): both write ./var/operator.key
    try:
        site_id = seed_site(a)
        cluster.start()
        key_file = a.tmp / "var" / "operator.key"
        key = key_file.read_text().strip()
        assert key == a.operator_key() == b.operator_key() and key.startswith("gwk_operator-")
        assert oct(key_file.stat().st_mode & 0o777) == "0o600"
        other = c.operator_key()  # c's own folder: its own key
        assert other != key
        assert all(works(d, k, site_id) for d in cluster for k in (key, other))  # whichever daemon answers
        assert not works(c, key[:-2] + "xx", site_id)
        assert b.stop() == 0
        assert key_file.read_text().strip() == key and works(a, key, site_id)  # b's stop takes nothing away
        assert a.stop() == 0
        a.start()
        assert a.operator_key() == key  # a restart in the folder keeps its key
        listed = a.cli("api-key", "list").stdout
        assert listed.count("\toperator key of ") == 2 and str(a.tmp) in listed
        assert key.split("_", 2)[2] not in listed and key not in a.log.read_text()

        a.cli("api-key", "revoke", key.split("_")[1])  # retired: the folder's next daemon makes another
        assert a.stop() == 0
        a.start()
        fresh = a.operator_key()
        assert fresh != key and works(a, fresh, site_id) and works(c, fresh, site_id) and not works(a, key, site_id)
        assert cluster.stop() == [0, 0, 0]
    finally:
        cluster.close()
