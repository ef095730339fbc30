"""Unit tests of the realtime feature job's pure-Python parts (no PyFlink, no Java needed):
event validation, periods, dedupe rule, durations, tasks.json validation and defaults, and the
sink writers against fake Redis / MongoDB clients.

    python -m pytest tests/stream_job/test_units.py      (any Python 3.11 with pytest)
"""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
JOB = os.path.join(os.path.dirname(os.path.dirname(HERE)), "jobs", "realtime_features")
sys.path.insert(0, JOB)

import rtf_events as ev  # noqa: E402
import rtf_params as rp  # noqa: E402
import rtf_sinks as rs  # noqa: E402
import rtf_sql  # noqa: E402

BASE = {"event_id": "e1", "tenant_id": "t1", "scenario_id": "s1", "user_id": "u1", "item_id": "i1",
        "action_type": "VIEW", "timestamp": 1767247200000}


def line(**changes):
    obj = dict(BASE)
    for k, v in changes.items():
        if v is ...:
            del obj[k]
        else:
            obj[k] = v
    return json.dumps(obj)


# --- events -----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,reason", [
    ("not json", "invalid_json"),
    ("", "invalid_json"),
    ("[1, 2]", "invalid_json"),
    ('"a string"', "invalid_json"),
    ("null", "invalid_json"),
    ('{"event_id": NaN}', "invalid_json"),
    (line(item_id=...), "missing_field"),
    (line(user_id=None), "missing_field"),
    (line(tenant_id=""), "missing_field"),
    (line(scenario_id=7), "missing_field"),
    (line(timestamp=...), "missing_field"),
    (line(action_type=...), "missing_field"),
    (line(timestamp=1767247200000.0), "bad_timestamp"),
    (line(timestamp=1767247200000.5), "bad_timestamp"),
    (line(timestamp="1767247200000"), "bad_timestamp"),
    (line(timestamp=True), "bad_timestamp"),
    (line(timestamp=-1), "bad_timestamp"),
    (line(timestamp=10 ** 20), "bad_timestamp"),
    (line(action_type="click"), "unknown_action"),
    (line(action_type="PURCHASE"), "unknown_action"),
    (line(action_type=3), "unknown_action"),
    # order of checks: a missing field wins over a bad timestamp, which wins over the action
    (line(item_id=..., timestamp="x"), "missing_field"),
    (line(timestamp="x", action_type="nope"), "bad_timestamp"),
])
def test_malformed(raw, reason):
    event, got = ev.parse_line(raw)
    assert event is None and got == reason


@pytest.mark.parametrize("action", ev.ACTIONS)
def test_well_formed(action):
    event, reason = ev.parse_line(line(action_type=action, extra={"k": 1}))
    assert reason is None and event.action_type == action and event.obj["extra"] == {"k": 1}


def test_duration_and_progress_are_optional_numbers():
    event, _ = ev.parse_line(line(duration=12, progress=0.5))
    assert (event.duration(), event.progress()) == (12.0, 0.5)
    event, _ = ev.parse_line(line(duration="12", progress=True))
    assert (event.duration(), event.progress()) == (None, None)
    event, _ = ev.parse_line(line())
    assert (event.duration(), event.progress()) == (None, None)


def test_etl_row_and_dead_letter():
    event, _ = ev.parse_line(line(timestamp=1767311999999, device="ios"))  # 2026-01-01T23:59:59.999Z
    assert json.loads(ev.etl_json(event)) == dict(BASE, timestamp=1767311999999, device="ios",
                                                  event_date="2026-01-01")
    event, _ = ev.parse_line(line(timestamp=1767312000000))                # 2026-01-02T00:00:00Z
    assert json.loads(ev.etl_json(event))["event_date"] == "2026-01-02"
    assert json.loads(ev.dead_letter_json("invalid_json", "héllo")) == {"reason": "invalid_json", "raw": "héllo"}
    assert ev.strip_line("\ufeff{}\r\n") == "{}"


def test_periods():
    assert [ev.period_of_hour(h) for h in (4, 5, 11, 12, 17, 18, 23, 0)] == [
        "evening", "morning", "morning", "afternoon", "afternoon", "evening", "evening", "evening"]
    zone = ev.load_zone("Asia/Shanghai")
    assert ev.local_hour(1767247200000, zone) == 14          # 06:00Z = 14:00 in Shanghai
    assert ev.local_hour(1767247200000, ev.load_zone("Asia/Kolkata")) == 11   # 11:30
    assert ev.active_period({"morning": 1, "afternoon": 1, "evening": 1}) == "morning"
    assert ev.active_period({"afternoon": 2, "evening": 2}) == "afternoon"
    assert ev.active_period({"morning": 1, "evening": 2}) == "evening"


def test_dedupe_rule():
    hour = 3600000
    assert not ev.is_duplicate(None, 5, hour)
    assert ev.is_duplicate(1000, 1000, hour)
    assert ev.is_duplicate(1000, 1000 + hour - 1, hour)
    assert ev.is_duplicate(1000, 1000 - hour + 1, hour)
    assert not ev.is_duplicate(1000, 1000 + hour, hour)


# --- durations and tasks.json -----------------------------------------------------------------

def test_durations():
    assert rp.parse_duration_ms("5s") == 5000
    assert rp.parse_duration_ms("20m") == 1200000
    assert rp.parse_duration_ms("1h") == 3600000
    assert rp.parse_duration_ms("1h30m") == 5400000
    assert rp.parse_duration_ms("500ms") == 500
    assert rp.parse_duration_ms("1.5s") == 1500
    assert rp.parse_duration_ms("0") == 0
    for bad in ("5", "5 sec", "", "h", 5):
        with pytest.raises(ValueError):
            rp.parse_duration_ms(bad)


def write(tmp_path, tasks):
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps({"tasks": tasks}))
    return str(path)


SRC = {"kind": "kafka", "bootstrap_servers": "kafka.data:9092", "topic": "user_behaviors"}
FILE_SINK = {"file": {"path": "/tmp/x.jsonl"}}


def test_defaults(tmp_path):
    tasks = {name: {"enabled": True, "params": {"source": SRC, "sinks": FILE_SINK}} for name in rp.TASKS}
    plan = rp.build_plan(write(tmp_path, tasks))
    t = plan["tasks"]
    assert plan["source"] == {"kind": "kafka", "bootstrap_servers": "kafka.data:9092", "topic": "user_behaviors",
                              "group_id": "flink-realtime-features", "startup_mode": "group-offsets",
                              "offset_reset": "latest", "idle_timeout_ms": 60000, "properties": {}}
    assert all(cfg["max_ooo_ms"] == 5000 for cfg in t.values())
    assert (t["user-realtime-features"]["window_ms"], t["user-realtime-features"]["timezone"]) == (3600000, "Asia/Shanghai")
    hot = t["item-hot-score"]
    assert (hot["window_ms"], hot["slide_ms"], hot["half_life_ms"], hot["top_n"]) == (3600000, 900000, 1800000, 1000)
    assert hot["weights"] == {"VIEW": 1.0, "LIKE": 2.0, "SHARE": 3.0}
    assert (t["recommendation-metrics"]["window_ms"], t["recommendation-metrics"]["complete_at"]) == (60000, 0.9)
    assert (t["behavior-etl"]["dedupe_window_ms"], t["behavior-etl"]["dead_letter"]) == (3600000, None)


def test_sink_defaults_and_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("PW", "pw")
    tasks = {
        "item-hot-score": {"enabled": True, "params": {
            "source": SRC, "weights": {"like": 5},
            "sinks": {"redis": {"host": "redis.data", "password": {"secret_env": "PW"}}}}},
        "user-realtime-features": {"enabled": True, "params": {
            "sinks": {"redis": {"host": "redis.data"},
                      "mongodb": {"uri": {"secret_env": "PW"}, "database": "lemo"}}}},
    }
    plan = rp.build_plan(write(tmp_path, tasks))
    hot = plan["tasks"]["item-hot-score"]
    assert hot["weights"] == {"VIEW": 1.0, "LIKE": 5.0, "SHARE": 3.0}
    redis = hot["sinks"][0]
    assert redis == {"name": "redis", "kind": "redis", "host": "redis.data", "port": 6379, "db": 0,
                     "username": None, "password": {"secret_env": "PW"}, "tls": False, "ttl_ms": 7200000,
                     "batch_size": 500, "flush_interval_ms": 1000, "max_retries": 5,
                     "retry_backoff_ms": 500, "timeout_ms": 10000}
    user = {s["kind"]: s for s in plan["tasks"]["user-realtime-features"]["sinks"]}
    assert user["redis"]["ttl_ms"] is None
    assert user["mongodb"]["collection"] == "user_profiles"
    assert user["mongodb"]["uri"] == {"secret_env": "PW"}     # resolved only inside the worker


@pytest.mark.parametrize("tasks,message", [
    ({"hot-items": {"enabled": True}}, "unknown task"),
    ({"item-hot-score": {"enabled": "yes"}}, "enabled: must be true or false"),
    ({"item-hot-score": {"enabled": True, "params": {"source": SRC, "sinks": FILE_SINK, "topn": 5}}},
     "unknown parameter topn"),
    ({"item-hot-score": {"enabled": True, "params": {"source": SRC, "sinks": FILE_SINK, "half_life": "30"}}},
     "half_life"),
    ({"item-hot-score": {"enabled": True, "params": {"source": SRC, "sinks": FILE_SINK, "top_n": 0}}},
     "top_n: must be >= 1"),
    ({"item-hot-score": {"enabled": True, "params": {"source": SRC, "sinks": FILE_SINK, "weights": {"click": 1}}}},
     "weights.click"),
    ({"item-hot-score": {"enabled": True, "params": {"source": SRC, "sinks": FILE_SINK, "slide": "7m"}}},
     "multiple of slide"),
    ({"user-realtime-features": {"enabled": True, "params": {"source": SRC, "sinks": FILE_SINK,
                                                             "timezone": "Mars/Olympus"}}}, "time zone"),
    ({"user-realtime-features": {"enabled": True, "params": {"source": SRC, "sinks": {"pushgateway": {"url": "x"}}}}},
     "must be one of mongodb, redis, file, kafka"),
    ({"user-realtime-features": {"enabled": True, "params": {"source": SRC}}}, "has no sink"),
    ({"user-realtime-features": {"enabled": True, "params": {"sinks": FILE_SINK}}}, "no enabled task has a source"),
    ({"user-realtime-features": {"enabled": False, "params": {}}}, "no task is enabled"),
    ({"user-realtime-features": {"enabled": True, "params": {"source": SRC, "sinks": FILE_SINK}},
      "item-hot-score": {"enabled": False, "params": {"top-n": 5}}}, "unknown parameter top-n"),
    ({"user-realtime-features": {"enabled": True, "params": {"source": SRC, "sinks": FILE_SINK}},
      "item-hot-score": {"enabled": True, "params": {"source": dict(SRC, topic="other"), "sinks": FILE_SINK}}},
     "different sources"),
    ({"behavior-etl": {"enabled": True, "params": {"source": SRC, "sinks": {
        "clickhouse": {"url": "http://ch:8123", "password": {"secret_env": "RTF_UNSET_FOR_TEST"}}}}}},
     "RTF_UNSET_FOR_TEST (secret_env) is not set"),
    ({"behavior-etl": {"enabled": True, "params": {"source": SRC, "sinks": FILE_SINK,
                                                   "dead_letter": {"kind": "redis", "host": "r"}}}},
     "must be one of kafka, file"),
    ({"recommendation-metrics": {"enabled": True, "params": {"source": SRC, "sinks": FILE_SINK,
                                                             "complete_at": {"secret_env": "X"}}}},
     "cannot be a secret"),
])
def test_invalid(tmp_path, tasks, message):
    with pytest.raises(rp.ParamError) as e:
        rp.build_plan(write(tmp_path, tasks))
    assert message in str(e.value)


def test_replaced_sources_and_sinks_need_no_secrets(tmp_path):
    tasks = {
        "behavior-etl": {"enabled": True, "params": {
            "source": dict(SRC, properties={"sasl.jaas.config": {"secret_env": "RTF_UNSET_1"}}),
            "sinks": {"clickhouse": {"url": "http://ch:8123", "password": {"secret_env": "RTF_UNSET_2"}}}}},
        "item-hot-score": {"enabled": False, "params": {"sinks": {"redis": {"host": "r", "password": {"secret_env": "RTF_UNSET_3"}}}}},
    }
    plan = rp.build_plan(write(tmp_path, tasks), source_file="/data/events.jsonl", sink_dir="/out")
    assert plan["source"] == {"kind": "file", "path": "/data/events.jsonl"}
    assert plan["tasks"]["behavior-etl"]["sinks"] == [{"name": "local", "kind": "file", "path": "/out/behavior-etl.jsonl"}]
    # the disabled task gets no file
    assert plan["local_files"] == ["/out/behavior-etl.jsonl", "/out/behavior-etl.dead-letter.jsonl"]
    assert plan["disabled"] == ["user-realtime-features", "item-hot-score", "recommendation-metrics"]


def test_cli_reports_config_errors(tmp_path):
    path = write(tmp_path, {"item-hot-score": {"enabled": True, "params": {"topn": 3}}})
    proc = subprocess.run([sys.executable, os.path.join(JOB, "main.py"), "--tasks-config", path,
                           "--sink-dir", str(tmp_path / "out")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "unknown parameter topn" in proc.stderr


def test_time_range_arguments():
    import main
    args = main.parse_args(["--tasks-config", "x", "--from", "2024-10-01", "--to", "2024-11-01"])
    assert main.time_range(args) == [1727740800000, 1730419200000]   # 2024-10-01/11-01 00:00Z
    args = main.parse_args(["--tasks-config", "x", "--from", "2024-10-01T08:00:00+08:00"])
    assert main.time_range(args) == [1727740800000, 2 ** 63 - 1]
    assert main.time_range(main.parse_args(["--tasks-config", "x"])) is None
    with pytest.raises(rp.ParamError):
        main.time_range(main.parse_args(["--tasks-config", "x", "--from", "2024-11-01", "--to", "2024-10-01"]))
    with pytest.raises(rp.ParamError):
        main.time_range(main.parse_args(["--tasks-config", "x", "--from", "October"]))


# --- SQL --------------------------------------------------------------------------------------

def test_sql_uses_parameters():
    sql = rtf_sql.hot_score_sql("v", {"window_ms": 3600000, "slide_ms": 900000, "half_life_ms": 1800000,
                                      "top_n": 7, "weights": {"VIEW": 1.0, "LIKE": 2.5, "SHARE": 3.0}})
    assert "INTERVAL '15' MINUTE(9), INTERVAL '60' MINUTE(9)" in sql
    assert "CAST(2.5 AS DOUBLE)" in sql and "CAST(1800000.0 AS DOUBLE)" in sql and "<= 7" in sql
    assert rtf_sql.watermark_expr(5000) == "TO_TIMESTAMP_LTZ(`ts` - 5000, 3)"


# --- sinks ------------------------------------------------------------------------------------

BATCH = {"batch_size": 2, "flush_interval_ms": 1000, "max_retries": 2, "retry_backoff_ms": 0, "timeout_ms": 1000}


class FakePipeline(object):
    def __init__(self, client, transaction):
        self.client, self.transaction, self.commands = client, transaction, []

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.commands.append((name, args, kwargs))

    def execute(self):
        if self.client.fail:
            self.client.fail -= 1
            raise ConnectionError("boom")
        self.client.executed.append((self.transaction, self.commands))


class FakeRedis(object):
    def __init__(self):
        self.executed, self.fail = [], 0

    def pipeline(self, transaction=True):
        return FakePipeline(self, transaction)

    def close(self):
        pass


def test_redis_hot_items_replaces_zset_per_window(monkeypatch):
    fake = FakeRedis()
    monkeypatch.setattr(rs, "_redis_client", lambda spec: fake)
    sink = rs.build_sink("item-hot-score", dict(BATCH, name="redis", kind="redis", ttl_ms=7200000))
    assert sink.batching and sink.windowed
    sink.open()
    row = lambda t, we, item, score, rank: rs.Rec(d={  # noqa: E731
        "tenant_id": t, "scenario_id": "s1", "window_end": we, "item_id": item, "score": score, "rank": rank})
    fake.fail = 1                                    # one failure is retried
    sink.write_rows([row("t1", 1800000, "A", 2.0, 1), row("t1", 900000, "A", 3.5, 1),
                     row("t1", 900000, "B", 1.5, 2), row("t2", 900000, "C", 1.0, 1)])
    assert fake.executed == [
        # one transaction per window and tenant/scenario; the later window of t1/s1 last
        (True, [("delete", ("hot:items:t1:s1",), {}), ("zadd", ("hot:items:t1:s1", {"A": 3.5, "B": 1.5}), {}),
                ("pexpire", ("hot:items:t1:s1", 7200000), {})]),
        (True, [("delete", ("hot:items:t1:s1",), {}), ("zadd", ("hot:items:t1:s1", {"A": 2.0}), {}),
                ("pexpire", ("hot:items:t1:s1", 7200000), {})]),
        (True, [("delete", ("hot:items:t2:s1",), {}), ("zadd", ("hot:items:t2:s1", {"C": 1.0}), {}),
                ("pexpire", ("hot:items:t2:s1", 7200000), {})]),
    ]


def test_redis_profile_hash(monkeypatch):
    fake = FakeRedis()
    monkeypatch.setattr(rs, "_redis_client", lambda spec: fake)
    sink = rs.build_sink("user-realtime-features", dict(BATCH, batch_size=10, name="redis", kind="redis", ttl_ms=None))
    assert sink.batching and not sink.windowed
    sink.open()
    base = {"tenant_id": "t1", "user_id": "u1", "window_start": 0, "views": 1, "likes": 0, "shares": 0,
            "active_period": "morning"}
    sink.write_rows([rs.Rec(d=dict(base, window_end=7200000, views=5)),   # same user, later window: wins
                     rs.Rec(d=dict(base, window_end=3600000))])
    (transaction, commands), = fake.executed
    assert transaction is False
    assert commands == [("hset", ("user:profile:u1",), {"mapping": {
        "tenant_id": "t1", "user_id": "u1", "window_start": "0", "views": "5", "likes": "0", "shares": "0",
        "active_period": "morning", "window_end": "7200000"}})]


def test_mongo_upsert():
    class FakeCollection(object):
        def __init__(self):
            self.calls = []

        def bulk_write(self, ops, ordered):
            self.calls.append((ops, ordered))

    pymongo = pytest.importorskip("pymongo")
    sink = rs.build_sink("user-realtime-features", dict(BATCH, name="mongodb", kind="mongodb", uri="mongodb://x",
                                                        database="lemo", collection="user_profiles"))
    sink.collection = FakeCollection()
    row = {"tenant_id": "t1", "user_id": "u1", "window_start": 0, "window_end": 3600000, "views": 1,
           "likes": 0, "shares": 0, "active_period": "morning"}
    sink.write_rows([rs.Rec(d=row)])
    (ops, ordered), = sink.collection.calls
    assert ops == [pymongo.UpdateOne({"tenant_id": "t1", "user_id": "u1"}, {"$set": row}, upsert=True)]
    assert ordered is False


def test_retries_give_up():
    calls = []

    def fail():
        calls.append(1)
        raise OSError("down")

    with pytest.raises(RuntimeError) as e:
        rs.with_retries("thing", fail, max_retries=2, backoff_ms=0)
    assert len(calls) == 3 and "after 3 attempt(s)" in str(e.value)


def test_pushgateway_format():
    assert rs.pushgateway_path("flink-realtime-features", [("tenant_id", "t 1"), ("scenario_id", "a/b")]) == \
        "/metrics/job/flink-realtime-features/tenant_id/t%201/scenario_id@base64/YS9i"
    assert rs.pushgateway_path("j", [("tenant_id", "")]) == "/metrics/job/j/tenant_id@base64/="
    body = rs.exposition({"impressions": 4, "clicks": 1, "ctr": 0.25, "avg_watch_time": 33.5, "completion_rate": 0.0})
    lines = [line for line in body.splitlines() if not line.startswith("#")]
    assert lines == ["recommendation_impressions 4", "recommendation_clicks 1", "recommendation_ctr 0.25",
                     "recommendation_avg_watch_duration 33.5", "recommendation_completion_rate 0.0"]
    assert "# TYPE recommendation_ctr gauge" in body and body.endswith("\n")


def test_clickhouse_request(monkeypatch):
    monkeypatch.setenv("CH_PW", "pw")
    sent = []
    monkeypatch.setattr(rs, "http_request", lambda *args: sent.append(args))
    sink = rs.build_sink("behavior-etl", dict(BATCH, name="clickhouse", kind="clickhouse", url="http://ch:8123/",
                                              database="lemo", table="user_behaviors", user="etl",
                                              password={"secret_env": "CH_PW"}))
    sink.open()
    sink.write_rows([rs.Rec(line='{"event_id":"e%d"}' % i) for i in (1, 2, 3)])   # batch_size 2 -> two requests
    assert [s[2] for s in sent] == [b'{"event_id":"e1"}\n{"event_id":"e2"}\n', b'{"event_id":"e3"}\n']
    method, url, _, headers, _ = sent[0]
    assert method == "POST" and url.startswith("http://ch:8123/?database=lemo&query=INSERT+INTO+%60user_behaviors%60")
    assert headers["X-ClickHouse-User"] == "etl" and headers["X-ClickHouse-Key"] == "pw"
    assert url.endswith("&input_format_skip_unknown_fields=1&async_insert=1&wait_for_async_insert=1")
