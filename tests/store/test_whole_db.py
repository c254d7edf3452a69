"""The `whole_redis_db` fixture: an index of this test's own, never 0, emptied, then released."""

from __future__ import annotations

import redis

WHOLE_DBS = range(9, 16)  # as tests/conftest.py says


def test_a_whole_database_is_this_tests_own_and_empty(whole_redis_db: str, redis_url: str) -> None:
    index = int(whole_redis_db.rsplit("/", 1)[1])
    assert index in WHOLE_DBS and index != 0
    client = redis.Redis.from_url(whole_redis_db)
    try:
        assert client.dbsize() == 0
        client.set("anything", "1")  # no prefix needed: nobody else uses this index now
        with redis.Redis.from_url(redis_url) as db0:
            claim = db0.get(f"test:whole-db:{index}")
        assert claim is not None  # claimed in database 0 for as long as the test runs
    finally:
        client.close()
