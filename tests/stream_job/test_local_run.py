"""Local runs of jobs/realtime_features/main.py with real PyFlink, checked against values computed
by hand (SPEC §9.3).

How to run (from the repository root; Java 17 must be on PATH): `bash .ci/stream-job-e2e` installs
everything, starts redis-server and the Pushgateway and runs every test of this folder; by hand:

    python3 -m venv /tmp/pyflink-venv
    /tmp/pyflink-venv/bin/pip install apache-flink==2.2.1 redis==5.2.1 pymongo==4.10.1 pytest
    PYFLINK_PYTHON=/tmp/pyflink-venv/bin/python /tmp/pyflink-venv/bin/python -m pytest tests/stream_job -v

PYFLINK_PYTHON is the interpreter that runs the job (it needs apache-flink==2.2.1). Without it,
the interpreter running pytest is used if it can import pyflink; otherwise these tests are
skipped (test_units.py still runs with any Python 3.11) -- except under .ci/stream-job-e2e
(FLINKOPS_E2E_REQUIRE=1), which installs everything and where a missing PyFlink is an error.

Three jobs run once per session, at the same time (about 30-60 s on 2 cores):

  run A  the spec's local run: --source events.jsonl --sink-dir DIR, all four tasks enabled. Its
         tasks.json is a production one (Kafka source, Redis/MongoDB/Pushgateway/ClickHouse
         sinks, secrets through secret_env variables that are NOT set): --source/--sink-dir
         replace them, so the run needs none of them. user-realtime-features uses
         timezone Asia/Kolkata (UTC+5:30) so that one UTC hour spans two local periods.
  run B  no flags: source and sinks from tasks.json, real clients against fakes served by this
         process: Redis (a small RESP server: profile hashes and hot-item ZSETs, password from a
         secret_env variable), Pushgateway and ClickHouse (HTTP). Default time zone, top_n 3,
         complete_at 0.95.
  run C  --source/--sink-dir with only behavior-etl enabled (two tasks disabled, one absent):
         a disabled task gets no file and no rows. Also --from 2026-01-01 --to 2026-01-02 (the
         backfill pipeline's date range arguments): line 35 (2026-01-02T00:05Z) is left out.

events.jsonl (35 lines) — T0 = 1767247200000 = 2026-01-01T06:00:00Z (11:30 in Kolkata, 14:00 in
Shanghai). Offsets from T0; tenant t1 / scenario s1 unless noted:

  line event    offset     user item action      notes
   1   e01      +0 s       u1   A    IMPRESSION
   2   e02      +1 s       u1   B    IMPRESSION
   3   e03      +2 s       u2   C    IMPRESSION
   4   e04      +3 s       u2   D    IMPRESSION
   5   e05      +10 s      u1   A    CLICK       extra field "device" (ETL keeps it)
   6   e06      +20 s      u1   A    VIEW        duration 40, progress 0.95
   7   e06      +20 s      (exact copy of line 6: ETL drops it; the windowed tasks count it)
   8   e07      +30 s      u2   B    VIEW        duration 20, progress 0.9 (= complete_at)
   9   e08      +40 s      u2   B    VIEW        no duration, no progress
  10   e09      +50 s      u2   C    VIEW        duration "abc" (not a number: ignored), progress 0.5
  11   not json at all                            -> invalid_json
  12   e10      +62 s      u1   A    SHARE
  13   e11      +58 s      u2   D    LIKE        4 s out of order: watermark 62-5 = 57 s, minute 0 open
  14   [1, 2, 3]                                  -> invalid_json (JSON, not an object)
  15   e12      +70 s      u3   E    VIEW        duration 10; watermark -> 65 s: minute 0 fires
  16   e13      +5 s       u3   A    CLICK       late for minute 0 (dropped there), on time for the hour
  17   x01      no item_id                        -> missing_field
  18   x02      timestamp 1767247275000.5         -> bad_timestamp
  19   x03      timestamp "1767247276000"         -> bad_timestamp
  20   x04      action_type "click"               -> unknown_action
  21   (blank line: skipped, not a dead letter)
  22   e14      +8 min     u1   F    VIEW
  23   e15      +8 min     u2   G    VIEW        same score as F: rank by item_id
  24   e16      +9 min     u1   A    LIKE        scenario s2
  25   e20      +29:59.999 u5   H    IMPRESSION  11:59:59.999 Kolkata = morning
  26   e17      +30 min    u3   H    IMPRESSION  12:00:00.000 Kolkata = afternoon
  27   e18      +35:10     u3   H    IMPRESSION
  28   e19      +35:20     u3   H    IMPRESSION
  29   e21      +35:30     u5   H    CLICK
  30   e02      +6h15      t2/s9 u4 X IMPRESSION  event_id reused 6 h later: outside dedupe_window, kept
  31   e22      +6h45      t2/s9 u4 X CLICK
  32   e23      +17h10     t2/s9 u4 X IMPRESSION  (23:10Z; 04:40 next day in Kolkata)
  33   e24      +17h10:30  t2/s9 u4 X IMPRESSION
  34   e25      +17h40     t2/s9 u4 X CLICK       (23:40Z = 05:10 Kolkata)
  35   e26      +18h05     t2/s9 u4 X IMPRESSION  (00:05Z on 2026-01-02: event_date 2026-01-02)
"""

import json
import os
import re
import shutil
import socketserver
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import jobrun

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MAIN = os.path.join(REPO, "jobs", "realtime_features", "main.py")
EVENTS = os.path.join(HERE, "events.jsonl")

T0 = 1767247200000          # 2026-01-01T06:00:00Z
S = 1000                    # ms per second
M = 60 * S                  # ms per minute
H = 60 * M                  # ms per hour
HALF_LIFE = 30 * M          # item-hot-score default half_life


PYTHON = jobrun.pyflink_python()
if PYTHON is None and os.environ.get("FLINKOPS_E2E_REQUIRE"):
    # .ci/stream-job-e2e sets FLINKOPS_E2E_REQUIRE: there a missing PyFlink fails, never skips
    raise RuntimeError("FLINKOPS_E2E_REQUIRE is set but neither PYFLINK_PYTHON nor this Python has apache-flink")
pytestmark = pytest.mark.skipif(PYTHON is None, reason="set PYFLINK_PYTHON to a Python with apache-flink==2.2.1")


# --- a fake Pushgateway + ClickHouse ----------------------------------------------------------

class Recorder(BaseHTTPRequestHandler):
    requests = []
    lock = threading.Lock()

    def _record(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8")
        with Recorder.lock:
            Recorder.requests.append({"method": self.command, "path": self.path,
                                      "headers": {k.lower(): v for k, v in self.headers.items()},
                                      "body": body})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PUT = do_POST = _record

    def log_message(self, *args):
        pass


class FakeRedis(socketserver.StreamRequestHandler):
    """Just enough of RESP2 for redis-py: AUTH, CLIENT, SELECT, MULTI/EXEC, HSET, DEL, ZADD, PEXPIRE."""

    log = []          # (connection password, transaction or None, [commands])
    hashes, zsets, ttls = {}, {}, {}
    lock = threading.Lock()

    def read_command(self):
        head = self.rfile.readline()
        if not head:
            return None
        assert head.startswith(b"*"), head
        args = []
        for _ in range(int(head[1:])):
            size = int(self.rfile.readline()[1:])
            args.append(self.rfile.read(size + 2)[:-2].decode("utf-8"))
        return args

    def apply(self, args):
        cmd, key = args[0].upper(), args[1] if len(args) > 1 else None
        if cmd == "HSET":
            self.hashes.setdefault(key, {}).update(dict(zip(args[2::2], args[3::2])))
            return b":1\r\n"
        if cmd == "DEL":
            self.zsets.pop(key, None)
            self.hashes.pop(key, None)
            return b":1\r\n"
        if cmd == "ZADD":
            self.zsets.setdefault(key, {}).update({m: float(sc) for sc, m in zip(args[2::2], args[3::2])})
            return b":1\r\n"
        if cmd == "PEXPIRE":
            self.ttls[key] = int(args[2])
            return b":1\r\n"
        return b"+OK\r\n"

    def handle(self):
        password, queued = None, None
        while True:
            args = self.read_command()
            if args is None:
                return
            cmd = args[0].upper()
            with FakeRedis.lock:
                if cmd == "AUTH":
                    password = args[-1]
                    reply = b"+OK\r\n"
                elif cmd == "MULTI":
                    queued, reply = [], b"+OK\r\n"
                elif cmd == "EXEC":
                    replies = [self.apply(a) for a in queued]
                    FakeRedis.log.append((password, True, queued))
                    queued, reply = None, b"*%d\r\n" % len(replies) + b"".join(replies)
                elif queued is not None:
                    queued.append(args)
                    reply = b"+QUEUED\r\n"
                else:
                    if cmd not in ("CLIENT", "SELECT", "PING"):
                        FakeRedis.log.append((password, None, [args]))
                    reply = self.apply(args)
            self.wfile.write(reply)


# --- tasks.json of the runs ---------------------------------------------------------------

KAFKA = {"kind": "kafka", "bootstrap_servers": "kafka.data:9092", "topic": "user_behaviors",
         "group_id": "flink-realtime-features"}


def secret(var):
    return {"secret_env": var}


def tasks_run_a():
    """A production tasks.json (what flinkops writes) + a few test parameters."""
    return {"tasks": {
        "user-realtime-features": {"enabled": True, "params": {
            "source": KAFKA, "timezone": "Asia/Kolkata",
            "sinks": {"mongodb": {"uri": secret("FLINKOPS_SECRET_USER_REALTIME_FEATURES_SINKS_MONGODB_URI"),
                                  "database": "lemo"},
                      "redis": {"host": "redis-master.data.svc", "password":
                                secret("FLINKOPS_SECRET_USER_REALTIME_FEATURES_SINKS_REDIS_PASSWORD")}}}},
        "item-hot-score": {"enabled": True, "params": {
            "source": KAFKA, "top_n": 5,
            "sinks": {"redis": {"host": "redis-master.data.svc", "password":
                                secret("FLINKOPS_SECRET_ITEM_HOT_SCORE_SINKS_REDIS_PASSWORD")}}}},
        "recommendation-metrics": {"enabled": True, "params": {
            "source": KAFKA,
            "sinks": {"pushgateway": {"url": "http://pushgateway.monitoring.svc:9091"}}}},
        "behavior-etl": {"enabled": True, "params": {
            "source": KAFKA,
            "sinks": {"clickhouse": {"url": "http://clickhouse.data.svc:8123", "password":
                                     secret("FLINKOPS_SECRET_BEHAVIOR_ETL_SINKS_CLICKHOUSE_PASSWORD")}},
            "dead_letter": {"kind": "kafka", "bootstrap_servers": "kafka.data:9092",
                            "topic": "user_behaviors_dead_letter"}}},
    }}


def tasks_run_b(out, http, redis_port):
    src = {"kind": "file", "path": EVENTS}
    redis = {"host": "127.0.0.1", "port": redis_port, "password": secret("RTF_TEST_REDIS_PASSWORD")}
    return {"tasks": {
        "user-realtime-features": {"enabled": True, "params": {
            "source": src, "sinks": {"redis": dict(redis, ttl="1d")}}},
        "item-hot-score": {"enabled": True, "params": {
            "source": src, "top_n": 3, "sinks": {"redis": dict(redis, ttl="90m")}}},
        "recommendation-metrics": {"enabled": True, "params": {
            "source": src, "complete_at": 0.95,
            "sinks": {"pushgateway": {"url": http, "job": "rtf-test", "flush_interval": "200ms"},
                      "copy": {"kind": "file", "path": os.path.join(out, "recommendation-metrics.jsonl")}}}},
        "behavior-etl": {"enabled": True, "params": {
            "source": src,
            "sinks": {"clickhouse": {"url": http, "database": "lemo", "batch_size": 10,
                                     "password": secret("RTF_TEST_CLICKHOUSE_PASSWORD")}},
            "dead_letter": {"kind": "file", "path": os.path.join(out, "dead-letter.jsonl")}}},
    }}


def tasks_run_c():
    return {"tasks": {
        "user-realtime-features": {"enabled": False, "params": {"timezone": "Asia/Kolkata"}},
        "item-hot-score": {"enabled": False, "params": {
            "sinks": {"redis": {"host": "redis.invalid", "password": secret("RTF_TEST_UNSET_VARIABLE")}}}},
        "behavior-etl": {"enabled": True, "params": {}},
    }}


@pytest.fixture(scope="session")
def runs():
    tmp = tempfile.mkdtemp(prefix="rtf-test-")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    http = "http://127.0.0.1:%d" % server.server_address[1]
    redis = socketserver.ThreadingTCPServer(("127.0.0.1", 0), FakeRedis)
    redis.daemon_threads = True
    threading.Thread(target=redis.serve_forever, daemon=True).start()
    dirs = {name: os.path.join(tmp, name) for name in "abc"}
    os.makedirs(dirs["b"])
    configs = {"a": tasks_run_a(), "b": tasks_run_b(dirs["b"], http, redis.server_address[1]), "c": tasks_run_c()}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLINKOPS_SECRET_", "RTF_TEST_"))}
    envs = {"a": env, "c": env,
            "b": dict(env, RTF_TEST_CLICKHOUSE_PASSWORD="s3cr3t-ch", RTF_TEST_REDIS_PASSWORD="s3cr3t-redis")}
    flags = {"a": ["--source", EVENTS, "--sink-dir", dirs["a"]], "b": [],
             "c": ["--source", EVENTS, "--sink-dir", dirs["c"], "--from", "2026-01-01", "--to", "2026-01-02"]}
    started = time.time()
    procs = {}
    for name in "abc":
        # the mini cluster's scratch files (an RPC jar of 21 MB, caches) go below tmp, not /tmp
        java_tmp = os.path.join(tmp, "java-tmp-%s" % name)
        os.makedirs(java_tmp)
        envs[name] = dict(envs[name], JVM_ARGS=(envs[name].get("JVM_ARGS", "") + " -Djava.io.tmpdir=" + java_tmp).strip())
        cfg = os.path.join(tmp, "tasks-%s.json" % name)
        with open(cfg, "w") as f:
            json.dump(configs[name], f, indent=2)
        procs[name] = jobrun.start([PYTHON, MAIN, "--tasks-config", cfg] + flags[name], tmp, envs[name],
                                   os.path.join(tmp, "run-%s.log" % name))
    jobrun.wait_all(procs, lambda name: os.path.join(tmp, "run-%s.log" % name))
    print("\nthe three local runs took %.1fs together (logs in %s)" % (time.time() - started, tmp))
    yield dict(dirs, http=list(Recorder.requests), redis=FakeRedis, tmp=tmp)
    server.shutdown()
    redis.shutdown()
    if not os.environ.get("RTF_KEEP_TMP"):
        shutil.rmtree(tmp, ignore_errors=True)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def sort_rows(rows, *keys):
    return sorted(rows, key=lambda r: tuple(r[k] for k in keys))


def approx_rows(rows):
    return [{k: (pytest.approx(v, rel=1e-9, abs=1e-12) if isinstance(v, float) else v)
             for k, v in r.items()} for r in rows]


# --- user-realtime-features -------------------------------------------------------------------

def user_row(tenant, user, start, views, likes, shares, period):
    return {"tenant_id": tenant, "user_id": user, "window_start": start, "window_end": start + H,
            "views": views, "likes": likes, "shares": shares, "active_period": period}


# Counts are the same in both runs (hour [T0, T0+1h) holds lines 1-29; line 7 is counted, line 16
# is on time for the hour):
#   u1: lines 1,2,5,6,7,12,22,24 -> VIEW 6,7,22 = 3; LIKE 24 = 1; SHARE 12 = 1
#   u2: lines 3,4,8,9,10,13,23   -> VIEW 8,9,10,23 = 4; LIKE 13 = 1; SHARE 0
#   u3: lines 15,16,26,27,28     -> VIEW 15 = 1
#   u5: lines 25,29              -> none
#   u4 (t2): hour +6h lines 30,31; hour +17h lines 32,33,34; hour +18h line 35 -> none
USER_FEATURES_KOLKATA = [
    # Kolkata = UTC+5:30: hour [T0, T0+1h) is 11:30-12:30 local; minutes 0-29 morning, 30-59 afternoon
    user_row("t1", "u1", T0, 3, 1, 1, "morning"),      # 8 events, all before +30 min
    user_row("t1", "u2", T0, 4, 1, 0, "morning"),      # 7 events, all before +30 min
    user_row("t1", "u3", T0, 1, 0, 0, "afternoon"),    # morning 2 (+70 s, +5 s) < afternoon 3 (+30:00, +35:10, +35:20)
    user_row("t1", "u5", T0, 0, 0, 0, "morning"),      # morning 1 (11:59:59.999) = afternoon 1 (12:05:30): tie -> morning
    user_row("t2", "u4", T0 + 6 * H, 0, 0, 0, "afternoon"),   # 17:45 afternoon = 18:15 evening: tie -> afternoon
    user_row("t2", "u4", T0 + 17 * H, 0, 0, 0, "evening"),    # 04:40, 04:40:30 evening (2) > 05:10 morning (1)
    user_row("t2", "u4", T0 + 18 * H, 0, 0, 0, "morning"),    # 05:35 morning
]

USER_FEATURES_SHANGHAI = [  # run B
    # Shanghai = UTC+8 (default timezone): hour [T0, T0+1h) is 14:00-15:00, all afternoon
    user_row("t1", "u1", T0, 3, 1, 1, "afternoon"),
    user_row("t1", "u2", T0, 4, 1, 0, "afternoon"),
    user_row("t1", "u3", T0, 1, 0, 0, "afternoon"),
    user_row("t1", "u5", T0, 0, 0, 0, "afternoon"),
    user_row("t2", "u4", T0 + 6 * H, 0, 0, 0, "evening"),     # 20:15, 20:45
    user_row("t2", "u4", T0 + 17 * H, 0, 0, 0, "morning"),    # 07:10, 07:10:30, 07:40 (next day)
    user_row("t2", "u4", T0 + 18 * H, 0, 0, 0, "morning"),    # 08:05
]


def test_user_realtime_features(runs):
    rows = read_jsonl(os.path.join(runs["a"], "user-realtime-features.jsonl"))
    assert sort_rows(rows, "tenant_id", "user_id", "window_start") == USER_FEATURES_KOLKATA


def test_user_profiles_in_redis(runs):
    """Run B: HSET user:profile:{user_id} with the row (default time zone), PEXPIRE ttl 1d."""
    fake = runs["redis"]
    latest = {}
    for row in USER_FEATURES_SHANGHAI:          # the hash holds the user's latest window
        latest["user:profile:%s" % row["user_id"]] = {k: str(v) for k, v in row.items()}
    assert fake.hashes == latest
    assert {k: fake.ttls[k] for k in latest} == {k: 24 * H for k in latest}
    # every HSET wrote one of the user's rows (rows of one batch are reduced to the latest window)
    rows = [{k: str(v) for k, v in row.items()} for row in USER_FEATURES_SHANGHAI]
    for _, _, cmds in fake.log:
        if cmds[0][0] == "HSET":
            assert dict(zip(cmds[0][2::2], cmds[0][3::2])) in rows
    assert all(password == "s3cr3t-redis" for password, _, _ in fake.log)   # from secret_env


# --- item-hot-score ---------------------------------------------------------------------------

def decay(window_end, ts):
    """2^(-(window_end - ts) / half_life)"""
    return 2 ** (-(window_end - ts) / HALF_LIFE)


def hot_rows_t1_s1(w):
    """Scores at window end w with the default weights VIEW 1, LIKE 2, SHARE 3.

    Every t1/s1 VIEW/LIKE/SHARE lies in [T0, T0+8min], so it is inside all four windows ending
    at T0+15, +30, +45, +60 min. Per item:
      A = 1*decay(+20 s) [line 6] + 1*decay(+20 s) [line 7, the copy] + 3*decay(+62 s) [SHARE]
      B = 1*decay(+30 s) + 1*decay(+40 s)
      C = 1*decay(+50 s)
      D = 2*decay(+58 s)                       [LIKE]
      E = 1*decay(+70 s)
      F = G = 1*decay(+8 min)                  [same timestamp: tie, F before G by item_id]
    At w = T0+15min (seconds before w: 880, 838, 870, 860, 850, 842, 830, 420; half-life 1800 s):
      A = 2*2^(-880/1800) + 3*2^(-838/1800) = 1.425364 + 2.172360 = 3.597724
      D = 2*2^(-842/1800)                   = 1.446155
      B = 2^(-870/1800) + 2^(-860/1800)     = 0.715427 + 0.717979 = 1.433406
      F = G = 2^(-420/1800)                 = 0.850667
      E = 2^(-830/1800) = 0.726427;  C = 2^(-850/1800) = 0.720853
    Every score of a later window is the same one times 2^(-15/30) per 15 min, so the order is
    the same in all four windows: A, D, B, F, G (top_n = 5 cuts E and C).
    """
    a = 1 * decay(w, T0 + 20 * S) + 1 * decay(w, T0 + 20 * S) + 3 * decay(w, T0 + 62 * S)
    b = 1 * decay(w, T0 + 30 * S) + 1 * decay(w, T0 + 40 * S)
    d = 2 * decay(w, T0 + 58 * S)
    f = g = 1 * decay(w, T0 + 8 * M)
    ranked = [("A", a), ("D", d), ("B", b), ("F", f), ("G", g)]
    return [{"tenant_id": "t1", "scenario_id": "s1", "window_end": w, "item_id": item,
             "score": score, "rank": i + 1} for i, (item, score) in enumerate(ranked)]


def hot_rows_t1_s2(w):
    # one LIKE on item A at +9 min (line 24): 2*decay; at T0+15min: 2*2^(-360/1800) = 1.741101
    return [{"tenant_id": "t1", "scenario_id": "s2", "window_end": w, "item_id": "A",
             "score": 2 * decay(w, T0 + 9 * M), "rank": 1}]


def test_hot_score_hand_arithmetic():
    """The comment's numbers, so that a wrong decay() above cannot hide."""
    w = T0 + 15 * M
    rows = {r["item_id"]: r["score"] for r in hot_rows_t1_s1(w)}
    assert rows["A"] == pytest.approx(3.597724, abs=1e-6)
    assert rows["D"] == pytest.approx(1.446155, abs=1e-6)
    assert rows["B"] == pytest.approx(1.433406, abs=1e-6)
    assert rows["F"] == rows["G"] == pytest.approx(0.850667, abs=1e-6)
    assert hot_rows_t1_s2(w)[0]["score"] == pytest.approx(1.741101, abs=1e-6)


def test_item_hot_score(runs):
    rows = read_jsonl(os.path.join(runs["a"], "item-hot-score.jsonl"))
    # t2/s9 has only IMPRESSION/CLICK: no item is ranked there.
    expected = []
    for w in (T0 + 15 * M, T0 + 30 * M, T0 + 45 * M, T0 + 60 * M):
        expected += hot_rows_t1_s1(w) + hot_rows_t1_s2(w)
    got = sort_rows(rows, "tenant_id", "scenario_id", "window_end", "rank")
    assert got == approx_rows(sort_rows(expected, "tenant_id", "scenario_id", "window_end", "rank"))


def test_hot_items_in_redis(runs):
    """Run B (top_n 3, ttl 90m): per window one MULTI/DEL/ZADD/PEXPIRE/EXEC, in window order; the
    ZSET ends with the last window (T0+60min) and its top 3."""
    fake = runs["redis"]
    windows = (T0 + 15 * M, T0 + 30 * M, T0 + 45 * M, T0 + 60 * M)
    for key, rows_at in (("hot:items:t1:s1", hot_rows_t1_s1), ("hot:items:t1:s2", hot_rows_t1_s2)):
        txs = [cmds for _, tx, cmds in fake.log if tx and cmds[0][1] == key]
        assert [[c[0] for c in cmds] for cmds in txs] == [["DEL", "ZADD", "PEXPIRE"]] * 4
        for cmds, w in zip(txs, windows):
            zadd = cmds[1]
            members = {m: float(sc) for sc, m in zip(zadd[2::2], zadd[3::2])}
            assert members == pytest.approx({r["item_id"]: r["score"] for r in rows_at(w)[:3]}, rel=1e-12)
            assert cmds[2] == ["PEXPIRE", key, str(90 * M)]
        assert fake.zsets[key] == pytest.approx({r["item_id"]: r["score"] for r in rows_at(windows[-1])[:3]})
    assert sorted(fake.zsets) == ["hot:items:t1:s1", "hot:items:t1:s2"]
    assert list(fake.zsets["hot:items:t1:s1"]) == ["A", "D", "B"]


# --- recommendation-metrics -------------------------------------------------------------------

def metrics_row(tenant, scenario, minute, impressions, clicks, ctr, avg_watch_time, completion_rate):
    start = T0 + minute * M
    return {"tenant_id": tenant, "scenario_id": scenario, "window_start": start, "window_end": start + M,
            "impressions": impressions, "clicks": clicks, "ctr": ctr,
            "avg_watch_time": avg_watch_time, "completion_rate": completion_rate}


def metrics_expected(completion_minute0):
    return [
        # minute 0: IMPRESSION lines 1-4 = 4; CLICK line 5 = 1 (line 16 is late: dropped here);
        #   ctr = 1/4 = 0.25; VIEW durations 40 (l6), 40 (l7), 20 (l8) -> (40+40+20)/3 = 33.333...
        #   (line 9 has none, line 10 "abc" is not a number); LIKE line 13 arrives 4 s late, inside
        #   max_out_of_orderness; VIEW progress 0.95, 0.95, 0.9, 0.5 -> completion below
        metrics_row("t1", "s1", 0, 4, 1, 1 / 4, (40 + 40 + 20) / 3, completion_minute0),
        # minute 1: SHARE (l12), VIEW duration 10 without progress (l15) -> avg 10/1, completion 0
        metrics_row("t1", "s1", 1, 0, 0, 0.0, 10 / 1, 0.0),
        metrics_row("t1", "s1", 8, 0, 0, 0.0, 0.0, 0.0),      # two VIEWs without duration/progress
        metrics_row("t1", "s2", 9, 0, 0, 0.0, 0.0, 0.0),      # one LIKE
        metrics_row("t1", "s1", 29, 1, 0, 0 / 1, 0.0, 0.0),   # l25
        metrics_row("t1", "s1", 30, 1, 0, 0 / 1, 0.0, 0.0),   # l26
        metrics_row("t1", "s1", 35, 2, 1, 1 / 2, 0.0, 0.0),   # l27, l28 IMPRESSION; l29 CLICK
        metrics_row("t2", "s9", 375, 1, 0, 0 / 1, 0.0, 0.0),  # +6h15
        metrics_row("t2", "s9", 405, 0, 1, 0.0, 0.0, 0.0),    # +6h45: a click, no impression -> ctr 0
        metrics_row("t2", "s9", 1030, 2, 0, 0 / 2, 0.0, 0.0),  # +17h10, +17h10:30
        metrics_row("t2", "s9", 1060, 0, 1, 0.0, 0.0, 0.0),   # +17h40
        metrics_row("t2", "s9", 1085, 1, 0, 0 / 1, 0.0, 0.0),  # +18h05
    ]


def test_recommendation_metrics(runs):
    rows = read_jsonl(os.path.join(runs["a"], "recommendation-metrics.jsonl"))
    # complete_at 0.9 (default): 0.95, 0.95, 0.9 reach it, 0.5 does not -> 3/4
    expected = metrics_expected(3 / 4)
    assert sort_rows(rows, "tenant_id", "scenario_id", "window_start") == approx_rows(
        sort_rows(expected, "tenant_id", "scenario_id", "window_start"))


def test_recommendation_metrics_complete_at_and_file_copy(runs):
    rows = read_jsonl(os.path.join(runs["b"], "recommendation-metrics.jsonl"))
    # complete_at 0.95: 0.95, 0.95 reach it; 0.9, 0.5 do not -> 2/4
    expected = metrics_expected(2 / 4)
    assert sort_rows(rows, "tenant_id", "scenario_id", "window_start") == approx_rows(
        sort_rows(expected, "tenant_id", "scenario_id", "window_start"))


def parse_exposition(body):
    values, types = {}, {}
    for line in body.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
        elif line and not line.startswith("#"):
            name, value = line.split(" ")
            values[name] = float(value)
    return values, types


def test_pushgateway(runs):
    puts = [r for r in runs["http"] if r["method"] == "PUT"]
    assert puts, "no PUT reached the fake Pushgateway"
    expected = {}
    for row in metrics_expected(2 / 4):  # run B: complete_at 0.95
        expected.setdefault((row["tenant_id"], row["scenario_id"]), []).append(row)
    last = {}
    for put in puts:
        m = re.fullmatch(r"/metrics/job/rtf-test/tenant_id/([^/]+)/scenario_id/([^/]+)", put["path"])
        assert m, put["path"]
        assert put["headers"]["content-type"].startswith("text/plain; version=0.0.4")
        values, types = parse_exposition(put["body"])
        assert types == {name: "gauge" for name in values}
        assert set(values) == {"recommendation_impressions", "recommendation_clicks", "recommendation_ctr",
                               "recommendation_avg_watch_duration", "recommendation_completion_rate"}
        last[m.groups()] = values
        # every push is one of the group's windows
        assert any(values == pytest.approx({
            "recommendation_impressions": r["impressions"], "recommendation_clicks": r["clicks"],
            "recommendation_ctr": r["ctr"], "recommendation_avg_watch_duration": r["avg_watch_time"],
            "recommendation_completion_rate": r["completion_rate"]}) for r in expected[m.groups()])
    # the group's last push is its latest window
    assert set(last) == set(expected)
    assert last[("t1", "s1")]["recommendation_ctr"] == 0.5             # minute 35: 1 click / 2 impressions
    assert last[("t1", "s2")]["recommendation_impressions"] == 0.0     # minute 9
    assert last[("t2", "s9")]["recommendation_impressions"] == 1.0     # +18h05


# --- behavior-etl -----------------------------------------------------------------------------

# Lines kept: every well-formed line except line 7 (copy of line 6 at the same timestamp, within
# dedupe_window 1 h). Line 30 reuses event_id e02 6h15 after line 2: outside the window, kept.
ETL_KEPT_LINES = [1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 13, 15, 16, 22, 23, 24, 25, 26, 27, 28, 29,
                  30, 31, 32, 33, 34, 35]
# UTC dates: everything up to +17h40 (23:40Z) is 2026-01-01; line 35 (+18h05 = 00:05Z) 2026-01-02
ETL_DATES = {35: "2026-01-02"}
DEAD_LETTERS = [(11, "invalid_json"), (14, "invalid_json"), (17, "missing_field"),
                (18, "bad_timestamp"), (19, "bad_timestamp"), (20, "unknown_action")]


def event_lines():
    with open(EVENTS, encoding="utf-8") as f:
        return f.read().split("\n")


def expected_etl_rows():
    lines = event_lines()
    rows = []
    for n in ETL_KEPT_LINES:
        row = json.loads(lines[n - 1])           # the event's fields, unchanged
        row["event_date"] = ETL_DATES.get(n, "2026-01-01")
        rows.append(row)
    return rows


def etl_key(row):
    return (row["event_id"], row["timestamp"])


def test_behavior_etl(runs):
    rows = read_jsonl(os.path.join(runs["a"], "behavior-etl.jsonl"))
    assert len(rows) == 27
    assert sorted(rows, key=etl_key) == sorted(expected_etl_rows(), key=etl_key)
    e05 = [r for r in rows if r["event_id"] == "e05"][0]
    assert e05["device"] == "ios" and e05["timestamp"] == 1767247210000


def test_behavior_etl_dead_letter(runs):
    lines = event_lines()
    rows = read_jsonl(os.path.join(runs["a"], "behavior-etl.dead-letter.jsonl"))
    expected = [{"reason": reason, "raw": lines[n - 1]} for n, reason in DEAD_LETTERS]
    key = lambda r: (r["raw"], r["reason"])  # noqa: E731
    assert sorted(rows, key=key) == sorted(expected, key=key)


def test_clickhouse_and_dead_letter_file(runs):
    posts = [r for r in runs["http"] if r["method"] == "POST"]
    assert posts, "no POST reached the fake ClickHouse"
    rows = []
    for post in posts:
        path, _, query = post["path"].partition("?")
        params = urllib.parse.parse_qs(query)
        assert path == "/"
        assert params["query"] == ["INSERT INTO `user_behaviors` FORMAT JSONEachRow"]
        assert params["database"] == ["lemo"]
        assert params["input_format_skip_unknown_fields"] == ["1"]
        assert params["async_insert"] == params["wait_for_async_insert"] == ["1"]
        assert post["headers"]["x-clickhouse-user"] == "default"
        assert post["headers"]["x-clickhouse-key"] == "s3cr3t-ch"       # from secret_env
        batch = [json.loads(line) for line in post["body"].splitlines() if line]
        assert 1 <= len(batch) <= 10                                      # batch_size 10
        rows += batch
    assert sorted(rows, key=etl_key) == sorted(expected_etl_rows(), key=etl_key)
    lines = event_lines()
    dead = read_jsonl(os.path.join(runs["b"], "dead-letter.jsonl"))
    assert sorted((d["raw"], d["reason"]) for d in dead) == sorted((lines[n - 1], r) for n, r in DEAD_LETTERS)


# --- tasks.json: enabled / disabled -----------------------------------------------------------

def test_sink_dir_holds_one_file_per_task(runs):
    assert sorted(os.listdir(runs["a"])) == [
        "behavior-etl.dead-letter.jsonl", "behavior-etl.jsonl", "item-hot-score.jsonl",
        "recommendation-metrics.jsonl", "user-realtime-features.jsonl"]
    # run B writes files only where its tasks.json names a file sink
    assert sorted(os.listdir(runs["b"])) == ["dead-letter.jsonl", "recommendation-metrics.jsonl"]


def test_disabled_task_produces_nothing(runs):
    # run C: user-realtime-features and item-hot-score disabled, recommendation-metrics absent:
    # only behaviour ETL's two files exist. The disabled item-hot-score names a secret variable
    # that is not set: it does not matter. Rows as in run A but for line 35 (after --to).
    assert sorted(os.listdir(runs["c"])) == ["behavior-etl.dead-letter.jsonl", "behavior-etl.jsonl"]
    rows = read_jsonl(os.path.join(runs["c"], "behavior-etl.jsonl"))
    expected = [r for r in expected_etl_rows() if r["event_id"] != "e26"]
    assert len(expected) == 26
    assert sorted(rows, key=etl_key) == sorted(expected, key=etl_key)
    assert len(read_jsonl(os.path.join(runs["c"], "behavior-etl.dead-letter.jsonl"))) == len(DEAD_LETTERS)
