import pytest

from core.llm.cache import CACHE_TABLE, CacheWriter, ResponseCache, request_key
from core.warehouse import Warehouse


def _row(key: str, response: str = "{}") -> dict:
    return {
        "key": key,
        "model": "m",
        "template": "t.v1:x",
        "response": response,
        "prompt_tokens": 3,
        "completion_tokens": 1,
    }


def test_request_key_depends_on_content_not_dict_order():
    msgs = [{"role": "user", "content": "hi"}]
    a = request_key("m", msgs, {"temperature": 0, "seed": 1}, "t.v1:x", {"type": "object"})
    b = request_key("m", msgs, {"seed": 1, "temperature": 0}, "t.v1:x", {"type": "object"})
    assert a == b and len(a) == 64
    assert a != request_key("m", msgs, {"seed": 2, "temperature": 0}, "t.v1:x", {"type": "object"})
    assert a != request_key("m", msgs, {"seed": 1, "temperature": 0}, "t.v2:y", {"type": "object"})


def test_a_key_is_stored_once(tmp_path):
    cache = ResponseCache(Warehouse(tmp_path / "wh.duckdb"))
    assert cache.lookup(["k1"]) == {}
    cache.put_many([_row("k1", "first"), _row("k1", "dup in batch")])
    cache.put_many([_row("k1", "second"), _row("k2")])
    found = cache.lookup(["k1", "k2", "k3"])
    assert set(found) == {"k1", "k2"} and found["k1"].response == "first"
    assert cache.warehouse.count(CACHE_TABLE) == 2


def test_the_writer_flushes_everything_on_close(tmp_path):
    cache = ResponseCache(Warehouse(tmp_path / "wh.duckdb"))
    writer = CacheWriter(cache, batch_size=4, max_delay=5.0)
    for i in range(10):
        writer.put(_row(f"k{i}"))
    writer.close()
    assert writer.written == 10 and len(cache.lookup([f"k{i}" for i in range(10)])) == 10


def test_a_writer_failure_surfaces_in_the_caller(tmp_path):
    class Broken(ResponseCache):
        def insert(self, con, rows):
            raise OSError("disk full")

    writer = CacheWriter(Broken(Warehouse(tmp_path / "wh.duckdb")), batch_size=1, max_delay=0.01)
    writer.put(_row("k"))
    with pytest.raises(RuntimeError, match="disk full"):
        writer.close()


def test_a_cache_table_without_a_key_is_rebuilt_with_one(tmp_path):
    wh = Warehouse(tmp_path / "wh.duckdb")
    with wh.connect() as con:
        con.execute(
            f"CREATE TABLE {CACHE_TABLE} (key VARCHAR, model VARCHAR, template VARCHAR, "
            "response VARCHAR, prompt_tokens BIGINT, completion_tokens BIGINT, created_at TIMESTAMP)"
        )
        con.execute(
            f"INSERT INTO {CACHE_TABLE} VALUES ('k1', 'm', 't', 'old', 1, 1, '2026-01-01'), "
            "('k1', 'm', 't', 'newer', 1, 1, '2026-01-02')"
        )
    cache = ResponseCache(wh)
    cache.put_many([_row("k1", "again"), _row("k2")])
    found = cache.lookup(["k1", "k2"])
    assert found["k1"].response == "old" and set(found) == {"k1", "k2"}
    assert wh.count(CACHE_TABLE) == 2
    # The table also gained the log-probabilities column (null for these answers).
    assert found["k1"].logprobs is None and found["k2"].logprobs is None


def test_a_cache_from_before_logprobs_is_still_read(tmp_path):
    wh = Warehouse(tmp_path / "wh.duckdb")
    with wh.connect() as con:
        con.execute(
            f"CREATE TABLE {CACHE_TABLE} (key VARCHAR PRIMARY KEY, model VARCHAR, "
            "template VARCHAR, response VARCHAR, prompt_tokens BIGINT, completion_tokens BIGINT, "
            "created_at TIMESTAMP)"
        )
        con.execute(f"INSERT INTO {CACHE_TABLE} VALUES ('k1', 'm', 't', 'old', 1, 1, '2026-01-01')")
    cache = ResponseCache(wh)
    assert cache.lookup(["k1"])["k1"].response == "old"
    cache.put_many([_row("k2") | {"logprobs": "[]"}])
    found = cache.lookup(["k1", "k2"])
    assert found["k1"].logprobs is None and found["k2"].logprobs == "[]"
