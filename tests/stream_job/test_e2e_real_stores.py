"""End to end: jobs/realtime_features/main.py with real PyFlink against a REAL redis-server and a
REAL Prometheus Pushgateway, checked against values computed by hand below (SPEC §9.3).

Run by `.ci/stream-job-e2e`, which installs everything, starts both servers on loopback and sets

    PYFLINK_PYTHON                  a Python with apache-flink==2.2.1 (and redis==5.2.1)
    FLINKOPS_E2E_REDIS_HOST/_PORT   the redis-server (this test empties its databases 1 and 2)
    FLINKOPS_E2E_PUSHGATEWAY_URL    the Pushgateway (a job label unique to this session is used)

Nothing here is skipped: without PyFlink or either server the tests fail.

Two runs of the job, started together, both WITHOUT --source/--sink-dir: source and sinks come
from tasks.json, as in the cluster (the source is a `file` source of e2e_events.jsonl).

  run 1  all four tasks. user-realtime-features -> Redis db 1 hashes + a file sink that captures
         the MongoDB upsert documents; item-hot-score (top_n 2, ttl default 2 h) -> Redis db 1
         ZSETs + a file copy of every window's rows; recommendation-metrics -> the Pushgateway;
         behavior-etl -> a file sink that captures the ClickHouse JSONEachRow rows + a file dead
         letter. (The file sink writes, per row, exactly the JSON line the ClickHouse sink puts
         into its POST body, and exactly the document the MongoDB sink $sets with
         updateOne({tenant_id, user_id}, {$set: row}, upsert=True).)
  run 2  the same tasks.json but for Redis db 2, another Pushgateway job label and other files,
         with item-hot-score turned off ("enabled": false, nothing else changed): it writes no
         ZSET and no file, and every other task's output is the same as in run 1.
  run 3  run 1's tasks.json for Redis db 3, another Pushgateway job label and other files, with
         batch_size 1 on the Redis and Pushgateway sinks (every row is its own write, so what a
         key holds at the end is the row written last), run as the bounded backfill runs: Flink's
         BATCH runtime mode from the Flink configuration, main.py started by PythonDriver
         (jobrun.flink_run, see test_batch_mode.py). Every store ends as in run 1.

e2e_events.jsonl, 30 lines. T0 = 1767247200000 = 2026-01-01T06:00:00Z = 11:30 in Asia/Kolkata
(UTC+5:30, the time zone given to user-realtime-features), so in the hour [T0, T0+1h) offsets
before +30 min are morning (before 12:00 local) and from +30 min on afternoon.

  line event   offset      tenant/scn user item action      notes
   1   e01     +0          t1/s1      u1   A    VIEW
   2   e02     +0          t1/s1      u2   B    SHARE       extra field "device": "ios" (ETL keeps it)
   3   e03     +0          t1/s2      u3   P    VIEW
   4   e04     +0          t1/s2      u3   Q    LIKE
   5   not JSON (cut off)                                   -> invalid_json
   6   e05     +6 min      t1/s1      u1   C    LIKE
   7   e06     +6 min      t1/s1      u2   A    VIEW
   8   e07     +10 min     t1/s2      u4   P    IMPRESSION
   9   e08     +12:00      t1/s1      u3   D    VIEW        duration 30, progress 0.95
  10   e09     +12:01      t1/s1      u1   E    IMPRESSION
  11   e11     +12:03      t1/s1      u1   D    IMPRESSION
  12   e11     +12:03      exact copy of line 11: ETL drops it, the windowed tasks count it
  13   e10     +12:02      t1/s1      u2   E    IMPRESSION  1 s out of order (within the 5 s)
  14   ["e12", "t1", "s1"]                                  -> invalid_json (not an object)
  15   e12     +12:30      t1/s1      u3   D    VIEW        duration 10, progress 0.5
  16   e13     +12:40      t1/s1      u1   D    CLICK
  17   e14     +12:45      t1/s1      u1   D    VIEW        progress 0.9 (= complete_at), no duration
  18   e15     +12:50      t1/s1      u1   D    VIEW        duration 20, no progress
  19   x02     no user_id                                   -> missing_field
  20   e16     +20 min     t1/s2      u2   R    VIEW
  21   x03     timestamp "1767248460000" (a string)         -> bad_timestamp
  22   e17     +29:59.999  t1/s2      u5   Q    IMPRESSION  11:59:59.999 local: morning
  23   e18     +30:00      t1/s2      u5   Q    CLICK       12:00:00.000 local: afternoon
  24   x04     action_type "PURCHASE"                       -> unknown_action
  25   e19     +35 min     t1/s2      u4   R    IMPRESSION
  26   e20     +40:00      t1/s2      u4   R    CLICK
  27   e20     +40:01      same event_id 1 s later (a retry): within dedupe_window 1 h, ETL drops it
  28   e21     +70 min     t1/s2      u1   R    CLICK       u1's second hour
  29   e01     +90 min     t2/s9      u6   X    IMPRESSION  event_id of line 1 again, 90 min later:
                                                            outside dedupe_window, ETL keeps it
  30   e22     +90:20      t2/s9      u6   X    CLICK
"""

import json
import os
import re
import shutil
import tempfile
import time
import urllib.request

import pytest

import jobrun

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MAIN = os.path.join(REPO, "jobs", "realtime_features", "main.py")
EVENTS = os.path.join(HERE, "e2e_events.jsonl")

T0 = 1767247200000          # 2026-01-01T06:00:00Z
S = 1000                    # ms per second
M = 60 * S                  # ms per minute
H = 60 * M                  # ms per hour
HALF_LIFE = 30 * M          # item-hot-score's default half_life
TOP_N = 2                   # item-hot-score's top_n in these runs
JOB_LABEL = "flinkops-e2e-%d-%d" % (os.getpid(), int(time.time()))   # unique per session
DB_RUN1, DB_RUN2, DB_RUN3 = 1, 2, 3


def require_env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail("%s is not set: run these tests through .ci/stream-job-e2e, which installs PyFlink, "
                    "starts redis-server and the Pushgateway and sets it" % name)
    return value


# --- tasks.json -------------------------------------------------------------------------------

def tasks_json(out, redis_host, redis_port, db, pushgateway, job):
    source = {"kind": "file", "path": EVENTS}
    redis = {"host": redis_host, "port": redis_port, "db": db}
    return {"tasks": {
        "user-realtime-features": {"enabled": True, "params": {
            "source": source, "timezone": "Asia/Kolkata",
            "sinks": {"redis": dict(redis),
                      "mongodb-capture": {"kind": "file", "path": os.path.join(out, "mongodb-user_profiles.jsonl")}}}},
        "item-hot-score": {"enabled": True, "params": {
            "source": source, "top_n": TOP_N,
            "sinks": {"redis": dict(redis),
                      "rows": {"kind": "file", "path": os.path.join(out, "item-hot-score.jsonl")}}}},
        "recommendation-metrics": {"enabled": True, "params": {
            "source": source,
            "sinks": {"pushgateway": {"url": pushgateway, "job": job}}}},
        "behavior-etl": {"enabled": True, "params": {
            "source": source,
            "sinks": {"clickhouse-capture": {"kind": "file", "path": os.path.join(out, "clickhouse-user_behaviors.jsonl")}},
            "dead_letter": {"kind": "file", "path": os.path.join(out, "dead-letter.jsonl")}}},
    }}


@pytest.fixture(scope="session")
def e2e():
    python = require_env("PYFLINK_PYTHON")
    host = require_env("FLINKOPS_E2E_REDIS_HOST")
    port = int(require_env("FLINKOPS_E2E_REDIS_PORT"))
    pushgateway = require_env("FLINKOPS_E2E_PUSHGATEWAY_URL").rstrip("/")
    try:
        import redis
    except ImportError:
        pytest.fail("the test's Python has no redis package (pip install redis==5.2.1)")
    clients = {db: redis.Redis(host=host, port=port, db=db, decode_responses=True)
               for db in (DB_RUN1, DB_RUN2, DB_RUN3)}
    for client in clients.values():
        client.flushdb()        # a server started for these tests (.ci/stream-job-e2e)
    with urllib.request.urlopen(pushgateway + "/-/ready", timeout=5) as resp:
        assert resp.status == 200, "the Pushgateway at %s is not ready" % pushgateway

    tmp = tempfile.mkdtemp(prefix="rtf-e2e-")
    runs = {
        "1": dict(db=DB_RUN1, job=JOB_LABEL, disabled=()),
        "2": dict(db=DB_RUN2, job=JOB_LABEL + "-run2", disabled=("item-hot-score",)),
        "3": dict(db=DB_RUN3, job=JOB_LABEL + "-batch", disabled=(), batch=True),
    }
    procs = {}
    started = time.time()
    for name, run in runs.items():
        out = run["out"] = os.path.join(tmp, "run" + name)
        os.makedirs(out)
        config = tasks_json(out, host, port, run["db"], pushgateway, run["job"])
        for task in run["disabled"]:
            config["tasks"][task]["enabled"] = False     # the only change: turning the task off
        if run.get("batch"):
            for task in config["tasks"].values():
                for sink_name, sink in task["params"]["sinks"].items():
                    if sink.get("kind", sink_name) in ("redis", "pushgateway"):   # the name is the default kind
                        sink["batch_size"] = 1
        path = os.path.join(tmp, "tasks-%s.json" % name)
        with open(path, "w") as f:
            json.dump(config, f, indent=2, sort_keys=True)
        if run.get("batch"):
            work = run["work"] = os.path.join(tmp, "flink-run" + name)
            os.makedirs(work)
            conf = jobrun.flink_conf_dir(os.path.join(work, "conf"), python, jobrun.backfill_flink_settings("BATCH"))
            procs[name] = jobrun.flink_run(python, MAIN, ["--tasks-config", path], conf, work,
                                           os.path.join(tmp, "run%s.log" % name))
            continue
        java_tmp = os.path.join(tmp, "java-tmp-" + name)
        os.makedirs(java_tmp)
        env = dict(os.environ, JVM_ARGS=(os.environ.get("JVM_ARGS", "") + " -Djava.io.tmpdir=" + java_tmp).strip())
        procs[name] = jobrun.start([python, MAIN, "--tasks-config", path], tmp, env,
                                   os.path.join(tmp, "run%s.log" % name))
    jobrun.wait_all(procs, lambda name: os.path.join(tmp, "run%s.log" % name))
    print("\nthe three end-to-end runs took %.1fs together (logs in %s)" % (time.time() - started, tmp))
    yield {"runs": runs, "redis": clients, "pushgateway": pushgateway, "finished": time.time()}
    if not os.environ.get("RTF_KEEP_TMP"):
        shutil.rmtree(tmp, ignore_errors=True)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def event_lines():
    with open(EVENTS, encoding="utf-8") as f:
        return f.read().split("\n")


def sort_rows(rows, *keys):
    return sorted(rows, key=lambda r: tuple(r[k] for k in keys))


# --- user-realtime-features: per-user counts and active period -----------------------------

def user_row(tenant, user, start, views, likes, shares, period):
    return {"tenant_id": tenant, "user_id": user, "window_start": start, "window_end": start + H,
            "views": views, "likes": likes, "shares": shares, "active_period": period}


# Hour [T0, T0+1h) = 11:30-12:30 Kolkata; hour [T0+1h, T0+2h) = 12:30-13:30 (all afternoon).
# Every well-formed line counts (line 12, the copy, too); malformed lines 5/14/19/21/24 do not.
USER_ROWS = [
    # u1 lines 1 VIEW, 6 LIKE, 10 IMP, 11 IMP, 12 IMP (copy), 16 CLICK, 17 VIEW, 18 VIEW:
    #   views 1+1+1 = 3 (lines 1, 17, 18), likes 1 (line 6), shares 0; all 8 before +30 min: morning
    user_row("t1", "u1", T0, 3, 1, 0, "morning"),
    # u1 line 28 (+70 min = 12:40 local): a CLICK only, afternoon
    user_row("t1", "u1", T0 + H, 0, 0, 0, "afternoon"),
    # u2 lines 2 SHARE, 7 VIEW, 13 IMP, 20 VIEW: views 2, likes 0, shares 1; all morning
    user_row("t1", "u2", T0, 2, 0, 1, "morning"),
    # u3 lines 3 VIEW, 4 LIKE, 9 VIEW, 15 VIEW: views 3, likes 1; all morning
    user_row("t1", "u3", T0, 3, 1, 0, "morning"),
    # u4 line 8 (+10 min, morning 1) vs lines 25, 26, 27 (+35, +40, +40:01, afternoon 3): afternoon
    user_row("t1", "u4", T0, 0, 0, 0, "afternoon"),
    # u5 line 22 (11:59:59.999, morning 1) vs line 23 (12:00:00.000, afternoon 1): tie -> morning
    user_row("t1", "u5", T0, 0, 0, 0, "morning"),
    # u6 (t2) lines 29, 30 at 13:00 and 13:00:20 local: afternoon
    user_row("t2", "u6", T0 + H, 0, 0, 0, "afternoon"),
]


def latest_profiles():
    """The upserted document / hash per (tenant, user): the row of the user's latest window
    (u1: the +1 h window)."""
    latest = {}
    for row in USER_ROWS:
        key = (row["tenant_id"], row["user_id"])
        if key not in latest or row["window_end"] > latest[key]["window_end"]:
            latest[key] = row
    return latest


def test_user_profiles_in_real_redis(e2e):
    """HSET user:profile:{user_id} with the row's fields (strings), no TTL configured."""
    r = e2e["redis"][DB_RUN1]
    expected = {"user:profile:%s" % user: {k: str(v) for k, v in row.items()}
                for (_, user), row in latest_profiles().items()}
    assert sorted(r.keys("user:profile:*")) == sorted(expected)
    for key, fields in expected.items():
        assert r.hgetall(key) == fields, key
        assert r.ttl(key) == -1, key            # user-realtime-features' redis sink: no ttl
    assert r.hgetall("user:profile:u1")["window_start"] == str(T0 + H)     # the later window won
    assert r.hgetall("user:profile:u5")["active_period"] == "morning"      # the tie


def test_mongodb_upsert_documents(e2e):
    """The captured rows are the $set documents of updateOne({tenant_id, user_id}, {$set: row},
    upsert=True); applying them in order leaves each user's latest window."""
    rows = read_jsonl(os.path.join(e2e["runs"]["1"]["out"], "mongodb-user_profiles.jsonl"))
    assert sort_rows(rows, "tenant_id", "user_id", "window_start") == sort_rows(
        USER_ROWS, "tenant_id", "user_id", "window_start")
    collection = {}
    for row in rows:       # the file is appended in the order the sink got the rows
        flt = {"tenant_id": row["tenant_id"], "user_id": row["user_id"]}
        collection.setdefault((flt["tenant_id"], flt["user_id"]), dict(flt)).update(row)
    assert collection == latest_profiles()
    assert len(collection) == 6


# --- item-hot-score: decayed scores, ZSET order, size cap, TTL ----------------------------

def decay(window_end, ts):
    """2^(-(window_end - ts) / half_life)"""
    return 2 ** (-(window_end - ts) / HALF_LIFE)


def hot_scores_t1_s1(w):
    """Scores at window end w, weights VIEW 1, LIKE 2, SHARE 3 (defaults). Every t1/s1 VIEW/LIKE/
    SHARE is in [T0, T0+13min), so it is in all four 1 h windows ending at T0+15/30/45/60 min:
      A = 1*decay(+0) [l1] + 1*decay(+6min) [l7]
      B = 3*decay(+0) [l2, SHARE]
      C = 2*decay(+6min) [l6, LIKE]
      D = 1*decay(+12:00) + 1*decay(+12:30) + 1*decay(+12:45) + 1*decay(+12:50)  [l9, 15, 17, 18]
      E: impressions only, not ranked.
    At w = T0+60min (minutes before w: 60, 54, 48, 47.5, 47.25, 47.1667; half-life 30):
      A = 2^(-60/30) + 2^(-54/30)     = 0.250000 + 0.287175 = 0.537175
      B = 3 * 2^(-60/30)              = 3 * 0.25            = 0.750000
      C = 2 * 2^(-54/30)              = 2 * 0.287175        = 0.574349
      D = 2^(-48/30) + 2^(-47.5/30) + 2^(-47.25/30) + 2^(-47.1667/30)
        = 0.329877 + 0.333710 + 0.335643 + 0.336290         = 1.335520
    An earlier window multiplies every score by 2^(15/30) per 15 min (w = T0+15min: D 3.777421,
    B 2.121320, C 1.624505, A 1.519359), so the order is D, B, C, A in all four windows and
    top_n 2 keeps D and B.
    """
    scores = {
        "A": 1 * decay(w, T0) + 1 * decay(w, T0 + 6 * M),
        "B": 3 * decay(w, T0),
        "C": 2 * decay(w, T0 + 6 * M),
        "D": sum(1 * decay(w, T0 + 12 * M + s * S) for s in (0, 30, 45, 50)),
    }
    return scores


def hot_scores_t1_s2(w):
    """t1/s2: P VIEW at +0 [l3], Q LIKE at +0 [l4], R VIEW at +20 min [l20].
      w = T0+15: Q = 2*2^(-15/30) = 1.414214, P = 2^(-15/30) = 0.707107        (R not yet)
      w = T0+30: Q = 2*2^(-30/30) = 1.000000, R = 2^(-10/30) = 0.793701, P = 0.500000
      w = T0+45: Q = 2*2^(-45/30) = 0.707107, R = 2^(-25/30) = 0.561231, P = 0.353553
      w = T0+60: Q = 2*2^(-60/30) = 0.500000, R = 2^(-40/30) = 0.396850, P = 0.250000
      w = T0+75: [T0+15min, T0+75min) holds only R: R = 2^(-55/30) = 0.280616
    top_n 2: Q,P / Q,R / Q,R / Q,R / R. The last window (T0+75) is the one left in Redis: the ZSET
    holds R alone, so it was replaced (DEL), not merged with the earlier windows' Q and P."""
    scores = {}
    if w <= T0 + 60 * M:                       # windows holding +0
        scores["P"] = 1 * decay(w, T0)
        scores["Q"] = 2 * decay(w, T0)
    if w > T0 + 20 * M:                        # windows holding +20 min
        scores["R"] = 1 * decay(w, T0 + 20 * M)
    return scores


def ranked(tenant, scenario, w, scores):
    order = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_N]
    return [{"tenant_id": tenant, "scenario_id": scenario, "window_end": w, "item_id": item,
             "score": score, "rank": i + 1} for i, (item, score) in enumerate(order)]


def hot_rows():
    rows = []
    for w in (T0 + 15 * M, T0 + 30 * M, T0 + 45 * M, T0 + 60 * M):
        rows += ranked("t1", "s1", w, hot_scores_t1_s1(w))
    for w in (T0 + 15 * M, T0 + 30 * M, T0 + 45 * M, T0 + 60 * M, T0 + 75 * M):
        rows += ranked("t1", "s2", w, hot_scores_t1_s2(w))
    # t2/s9 has only IMPRESSION/CLICK (lines 29, 30): nothing ranked, no ZSET
    return rows


def test_hot_score_hand_arithmetic():
    """The docstrings' numbers, so that a wrong decay() cannot hide."""
    s1 = hot_scores_t1_s1(T0 + 60 * M)
    assert s1 == pytest.approx({"A": 0.537175, "B": 0.750000, "C": 0.574349, "D": 1.335520}, abs=1e-6)
    assert hot_scores_t1_s1(T0 + 15 * M) == pytest.approx(
        {"A": 1.519359, "B": 2.121320, "C": 1.624505, "D": 3.777421}, abs=1e-6)
    assert hot_scores_t1_s2(T0 + 30 * M) == pytest.approx({"P": 0.5, "Q": 1.0, "R": 0.793701}, abs=1e-6)
    assert hot_scores_t1_s2(T0 + 75 * M) == pytest.approx({"R": 0.280616}, abs=1e-6)


def test_hot_score_rows_of_every_window(e2e):
    rows = read_jsonl(os.path.join(e2e["runs"]["1"]["out"], "item-hot-score.jsonl"))
    keys = ("tenant_id", "scenario_id", "window_end", "rank")
    expected = sort_rows(hot_rows(), *keys)
    got = sort_rows(rows, *keys)
    assert [{k: v for k, v in r.items() if k != "score"} for r in got] == \
        [{k: v for k, v in r.items() if k != "score"} for r in expected]
    assert [r["score"] for r in got] == pytest.approx([r["score"] for r in expected], rel=1e-9)
    assert max(r["rank"] for r in rows) == TOP_N


def test_hot_items_zsets_in_real_redis(e2e):
    r = e2e["redis"][DB_RUN1]
    assert sorted(r.keys("hot:items:*")) == ["hot:items:t1:s1", "hot:items:t1:s2"]   # none for t2:s9
    # t1/s1: the last window (T0+60min), capped at top_n 2: D 1.335520 > B 0.750000 (C, A cut)
    s1 = r.zrevrange("hot:items:t1:s1", 0, -1, withscores=True)
    assert [item for item, _ in s1] == ["D", "B"]
    assert r.zcard("hot:items:t1:s1") == TOP_N
    assert [score for _, score in s1] == pytest.approx([1.335520, 0.750000], abs=1e-6)
    last = hot_scores_t1_s1(T0 + 60 * M)
    assert [score for _, score in s1] == pytest.approx([last["D"], last["B"]], rel=1e-12)
    # t1/s2: the last window (T0+75min) holds R alone: 2^(-55/30) = 0.280616
    assert r.zrevrange("hot:items:t1:s2", 0, -1, withscores=True) == [("R", pytest.approx(0.280616, abs=1e-6))]
    # TTL 2 h (the default), set when the last window was written, shortly before now
    age = time.time() - e2e["finished"] + 120
    for key in ("hot:items:t1:s1", "hot:items:t1:s2"):
        ttl, pttl = r.ttl(key), r.pttl(key)
        assert 0 < ttl <= 7200, (key, ttl)
        assert 7200 * 1000 - age * 1000 < pttl <= 7200 * 1000, (key, pttl)


# --- recommendation-metrics: read back from the Pushgateway's /metrics ----------------------

METRICS = ("recommendation_impressions", "recommendation_clicks", "recommendation_ctr",
           "recommendation_avg_watch_duration", "recommendation_completion_rate")

# The Pushgateway holds each group's (job, tenant_id, scenario_id) latest window: its last minute.
EXPECTED_PUSHED = {
    # t1/s1 minute [T0+12min, T0+13min): IMPRESSION lines 10, 11, 12 (the copy counts), 13 = 4;
    #   CLICK line 16 = 1 -> ctr = 1/4 = 0.25
    #   VIEW durations 30 (l9), 10 (l15), 20 (l18); l17 has none -> avg (30+10+20)/3 = 20.0
    #   VIEW progress 0.95 (l9), 0.5 (l15), 0.9 (l17); l18 has none -> >= 0.9: l9, l17 -> 2/3
    ("t1", "s1"): {"recommendation_impressions": 4, "recommendation_clicks": 1, "recommendation_ctr": 1 / 4,
                   "recommendation_avg_watch_duration": (30 + 10 + 20) / 3,
                   "recommendation_completion_rate": 2 / 3},
    # t1/s2 minute [T0+70min, T0+71min): CLICK line 28 alone -> 0 impressions: ctr 0; no VIEW: 0, 0
    ("t1", "s2"): {"recommendation_impressions": 0, "recommendation_clicks": 1, "recommendation_ctr": 0.0,
                   "recommendation_avg_watch_duration": 0.0, "recommendation_completion_rate": 0.0},
    # t2/s9 minute [T0+90min, T0+91min): IMPRESSION line 29, CLICK line 30 -> ctr = 1/1 = 1.0
    ("t2", "s9"): {"recommendation_impressions": 1, "recommendation_clicks": 1, "recommendation_ctr": 1.0,
                   "recommendation_avg_watch_duration": 0.0, "recommendation_completion_rate": 0.0},
}

SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$")
LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def pushgateway_samples(url):
    """GET /metrics (text format) -> [(metric name, {label: value}, float value)]."""
    with urllib.request.urlopen(url + "/metrics", timeout=10) as resp:
        assert resp.status == 200
        body = resp.read().decode("utf-8")
    samples = []
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, line
        labels = dict(LABEL.findall(m.group(2) or ""))
        samples.append((m.group(1), labels, float(m.group(3))))
    return samples


def pushed_groups(url, job):
    groups = {}
    for name, labels, value in pushgateway_samples(url):
        if name in METRICS and labels.get("job") == job:
            assert set(labels) <= {"job", "tenant_id", "scenario_id", "instance"}, labels
            groups.setdefault((labels["tenant_id"], labels["scenario_id"]), {})[name] = value
    return groups


def test_metrics_in_real_pushgateway(e2e):
    groups = pushed_groups(e2e["pushgateway"], JOB_LABEL)
    assert set(groups) == set(EXPECTED_PUSHED)
    for group, expected in EXPECTED_PUSHED.items():
        assert groups[group] == pytest.approx(expected, rel=1e-12), group
    assert groups[("t1", "s1")]["recommendation_ctr"] == 0.25
    assert groups[("t1", "s1")]["recommendation_completion_rate"] == pytest.approx(0.666667, abs=1e-6)
    assert groups[("t2", "s9")]["recommendation_ctr"] == 1.0
    # the metrics are gauges
    types = {}
    with urllib.request.urlopen(e2e["pushgateway"] + "/metrics", timeout=10) as resp:
        for line in resp.read().decode("utf-8").splitlines():
            if line.startswith("# TYPE recommendation_"):
                _, _, name, kind = line.split(" ")
                types[name] = kind
    assert types == {name: "gauge" for name in METRICS}


# --- behavior-etl: ClickHouse rows, dedupe, dead letter --------------------------------------

# Well-formed lines: 30 - 5 malformed = 25. ETL drops line 12 (exact copy of line 11) and line 27
# (e20 again 1 s later, within dedupe_window 1 h) -> 25 - 2 = 23 rows. Line 29 reuses e01 90 min
# after line 1 (outside the window): kept.
ETL_KEPT_LINES = [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 13, 15, 16, 17, 18, 20, 22, 23, 25, 26, 28, 29, 30]
DEAD_LETTERS = [(5, "invalid_json"), (14, "invalid_json"), (19, "missing_field"),
                (21, "bad_timestamp"), (24, "unknown_action")]


def test_etl_line_arithmetic():
    assert len(event_lines()) == 31 and event_lines()[-1] == ""              # 30 lines + final newline
    assert len(ETL_KEPT_LINES) == 30 - len(DEAD_LETTERS) - 2 == 23


def test_clickhouse_rows(e2e):
    """Each captured line is one JSONEachRow line of the ClickHouse POST body: the event's fields
    unchanged (the extra "device" too) plus event_date (UTC; every event is on 2026-01-01)."""
    path = os.path.join(e2e["runs"]["1"]["out"], "clickhouse-user_behaviors.jsonl")
    with open(path, encoding="utf-8") as f:
        body = f.read()
    rows = [json.loads(line) for line in body.splitlines()]
    assert all(isinstance(r, dict) for r in rows)
    lines = event_lines()
    expected = []
    for n in ETL_KEPT_LINES:
        row = json.loads(lines[n - 1])
        row["event_date"] = "2026-01-01"
        expected.append(row)
    key = lambda r: (r["event_id"], r["timestamp"])  # noqa: E731
    assert sorted(rows, key=key) == sorted(expected, key=key)
    assert len(rows) == 23
    ids = [r["event_id"] for r in rows]
    assert ids.count("e11") == 1 and ids.count("e20") == 1        # the two duplicates dropped
    assert ids.count("e01") == 2                                  # the reuse 90 min later kept
    assert [r for r in rows if r["event_id"] == "e02"][0]["device"] == "ios"


def test_dead_letter_and_dropped_malformed_count(e2e):
    lines = event_lines()
    dead = read_jsonl(os.path.join(e2e["runs"]["1"]["out"], "dead-letter.jsonl"))
    assert sorted((d["raw"], d["reason"]) for d in dead) == sorted((lines[n - 1], r) for n, r in DEAD_LETTERS)
    assert len(dead) == 5                                         # dropped malformed lines
    etl = read_jsonl(os.path.join(e2e["runs"]["1"]["out"], "clickhouse-user_behaviors.jsonl"))
    # 30 lines = 23 written + 2 duplicates + 5 malformed
    assert len(etl) + 2 + len(dead) == 30


# --- turning a task off -----------------------------------------------------------------------

def test_disabled_task_is_skipped(e2e):
    """Run 2 = run 1's tasks.json with item-hot-score's "enabled" set to false (and its own Redis
    db, Pushgateway job label and files): no ZSET, no rows; the other tasks are unchanged."""
    run1, run2 = e2e["runs"]["1"], e2e["runs"]["2"]
    r2 = e2e["redis"][DB_RUN2]
    assert r2.keys("hot:items:*") == []
    assert sorted(r2.keys()) == sorted("user:profile:%s" % u for u in ("u1", "u2", "u3", "u4", "u5", "u6"))
    assert sorted(os.listdir(run2["out"])) == ["clickhouse-user_behaviors.jsonl", "dead-letter.jsonl",
                                               "mongodb-user_profiles.jsonl"]   # no item-hot-score.jsonl
    assert "item-hot-score.jsonl" in os.listdir(run1["out"])
    for name in os.listdir(run2["out"]):
        a = read_jsonl(os.path.join(run1["out"], name))
        b = read_jsonl(os.path.join(run2["out"], name))
        assert sorted(map(json.dumps, a)) == sorted(map(json.dumps, b)), name
    for key in r2.keys():
        assert r2.hgetall(key) == e2e["redis"][DB_RUN1].hgetall(key)
    assert pushed_groups(e2e["pushgateway"], run2["job"]) == pushed_groups(e2e["pushgateway"], JOB_LABEL)



# --- the bounded job: BATCH runtime mode ------------------------------------------------------

def test_batch_run_leaves_every_store_as_the_streaming_run(e2e):
    """Run 3 (BATCH mode from the Flink configuration, batch_size 1 on Redis and the Pushgateway):
    the same profiles, ZSETs, Pushgateway groups and captured rows as run 1. With batch_size 1 a
    key keeps the row written last, so this also shows each key's windows were written in order."""
    run1, run3 = e2e["runs"]["1"], e2e["runs"]["3"]
    log = jobrun.flink_log(run3["work"])
    assert "execution.runtime-mode, BATCH" in log and "BatchExecutionStateBackend" in log
    r1, r3 = e2e["redis"][DB_RUN1], e2e["redis"][DB_RUN3]
    profiles = sorted(r1.keys("user:profile:*"))
    assert sorted(r3.keys("user:profile:*")) == profiles and len(profiles) == 6
    for key in profiles:
        assert r3.hgetall(key) == r1.hgetall(key), key
    assert r3.hgetall("user:profile:u1")["window_start"] == str(T0 + H)     # the later window won
    assert sorted(r3.keys("hot:items:*")) == ["hot:items:t1:s1", "hot:items:t1:s2"]
    for key in ("hot:items:t1:s1", "hot:items:t1:s2"):
        z1 = r1.zrevrange(key, 0, -1, withscores=True)
        z3 = r3.zrevrange(key, 0, -1, withscores=True)
        assert [m for m, _ in z3] == [m for m, _ in z1], key
        assert [sc for _, sc in z3] == pytest.approx([sc for _, sc in z1], rel=1e-12), key
        assert 0 < r3.ttl(key) <= 7200, key
    groups = pushed_groups(e2e["pushgateway"], run3["job"])
    assert set(groups) == set(EXPECTED_PUSHED)
    for group, expected in EXPECTED_PUSHED.items():
        assert groups[group] == pytest.approx(expected, rel=1e-12), group
    assert sorted(os.listdir(run3["out"])) == sorted(os.listdir(run1["out"]))
    for name in os.listdir(run1["out"]):
        a = read_jsonl(os.path.join(run1["out"], name))
        b = read_jsonl(os.path.join(run3["out"], name))
        if name == "item-hot-score.jsonl":      # sums of doubles: the last bits may differ
            keys = ("tenant_id", "scenario_id", "window_end", "rank")
            a, b = sort_rows(a, *keys), sort_rows(b, *keys)
            assert [dict(r, score=0) for r in b] == [dict(r, score=0) for r in a]
            assert [r["score"] for r in b] == pytest.approx([r["score"] for r in a], rel=1e-12)
        else:
            assert sorted(map(json.dumps, b)) == sorted(map(json.dumps, a)), name
    # the MongoDB $set documents, applied in the order the sink got them, leave the latest windows
    collection = {}
    for row in read_jsonl(os.path.join(run3["out"], "mongodb-user_profiles.jsonl")):
        collection.setdefault((row["tenant_id"], row["user_id"]), {}).update(row)
    assert collection == latest_profiles()
