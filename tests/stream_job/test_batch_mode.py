"""The realtime feature job as a bounded job in Flink's BATCH runtime mode (SPEC §13.4): the
worked example's backfill FlinkDeployment carries `execution.runtime-mode: BATCH` in its
flinkConfiguration, and the job must give the rows it gives in STREAMING mode (and the values
computed by hand in test_local_run.py).

The mode reaches the job the way it does in the cluster: through the Flink configuration file,
read by the Flink client, with main.py started by PythonDriver (jobrun.flink_run: `flink run -t
local -py main.py -pyfs <folder>`, FLINK_CONF_DIR holding PyFlink's config.yaml plus the
backfill FlinkDeployment's flinkConfiguration as flinkops generated it in out/prod/, python.* set
to the local interpreter). No job flag is involved. Every run also writes Flink's log, which
shows the runtime the job really got (BATCH: the sorted-input BatchExecutionStateBackend).

Four runs, started together (about 1-2 minutes on 2 cores), each with --source/--sink-dir:

  backfill-batch / backfill-streaming
      the backfill's own tasks.json (out/prod/.../configmap-...-tasks.yaml: user-realtime-features
      only, Asia/Shanghai, file source on s3 and MongoDB/Redis sinks, which --source/--sink-dir
      replace) over events.jsonl with `--from 2026-01-01 --to 2026-01-02`, the backfill's date
      range arguments for the test data's day (line 35, 2026-01-02T00:05Z, is left out).
  all-batch / all-streaming
      all four tasks (run A's tasks.json of test_local_run.py) over events.jsonl followed by a
      generated day of tenant t9 (GENERATED below), which starts a day after events.jsonl ends.

Where the modes differ by design: a STREAMING window drops an event that arrives behind the
watermark (events.jsonl line 16, 5 s late for minute 0 of recommendation-metrics); in BATCH mode
the whole input is there before any window is computed, no event is late, and line 16 counts.
Every other row is the same.

What BATCH mode needed from the job (jobs/realtime_features/main.py, in_time_order): Flink sorts
the input of each keyed operator by key and record timestamp, and rows from a table have no
timestamp there, so a sink writer got each user's (tenant/scenario's) windows in no particular
order and behaviour ETL's dedupe saw an event_id's copies in no particular order.
test_batch_sink_writers_get_each_keys_windows_in_order and
test_batch_dedupe_keeps_first_and_last_of_three_copies guard that: without those timestamps both
fail (nearly every user's windows out of order; a quarter of the triples deduplicated to the
middle copy alone).
"""

import datetime
import json
import os
import shutil
import tempfile
import time

import pytest

import jobrun
import test_local_run as local   # the hand-computed rows of events.jsonl

HERE = os.path.dirname(os.path.abspath(__file__))
MAIN = os.path.join(jobrun.REPO, "jobs", "realtime_features", "main.py")
EVENTS = os.path.join(HERE, "events.jsonl")

T0, S, M, H = local.T0, local.S, local.M, local.H

PYTHON = jobrun.pyflink_python()
if PYTHON is None and os.environ.get("FLINKOPS_E2E_REQUIRE"):
    raise RuntimeError("FLINKOPS_E2E_REQUIRE is set but neither PYFLINK_PYTHON nor this Python has apache-flink")
pytestmark = pytest.mark.skipif(PYTHON is None, reason="set PYFLINK_PYTHON to a Python with apache-flink==2.2.1")

# --- the generated part of the all-tasks input --------------------------------------------------

GEN_T0 = T0 + 48 * H          # 2026-01-03T06:00:00Z, a day after events.jsonl's last line
GEN_HOURS, GEN_USERS = 48, 20
GEN_TRIPLES = 40              # event ids sent three times, 50 min apart
ACTIONS = ["VIEW", "LIKE", "SHARE", "IMPRESSION", "CLICK"]


def generated_events():
    """Tenant t9, in timestamp order (so that no event is late in STREAMING mode either):
    - one event per (hour, user) for 48 hours and 20 users (scenario s<user % 3>, item I<user % 7>,
      action cycling through ACTIONS): every user and every scenario has events in 48 hours, so
      each key has many windows (48 hourly ones per user);
    - 40 event ids d<k> (user u99, scenario s0), each sent three times, at
      GEN_T0 + k*7 min + 0.5 s + j*50 min for j = 0, 1, 2."""
    events = []
    for h in range(GEN_HOURS):
        for u in range(GEN_USERS):
            events.append({"event_id": "g-%d-%d" % (h, u), "tenant_id": "t9", "scenario_id": "s%d" % (u % 3),
                           "user_id": "u%d" % u, "item_id": "I%d" % (u % 7), "action_type": ACTIONS[(h + u) % 5],
                           "timestamp": GEN_T0 + h * H + u * S})
    for k in range(GEN_TRIPLES):
        for j in range(3):
            events.append({"event_id": "d%d" % k, "tenant_id": "t9", "scenario_id": "s0", "user_id": "u99",
                           "item_id": "J", "action_type": "VIEW", "timestamp": GEN_T0 + k * 7 * M + 500 + j * 50 * M})
    events.sort(key=lambda e: e["timestamp"])
    return events


# --- the runs -----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def runs():
    tmp = tempfile.mkdtemp(prefix="rtf-batch-")
    all_events = os.path.join(tmp, "events-and-generated.jsonl")
    with open(EVENTS, encoding="utf-8") as src, open(all_events, "w", encoding="utf-8") as dst:
        text = src.read()
        dst.write(text if text.endswith("\n") else text + "\n")
        for event in generated_events():
            dst.write(json.dumps(event) + "\n")
    tasks = {"backfill": jobrun.backfill_tasks_json(), "all": local.tasks_run_a()}
    assert sorted(tasks["backfill"]["tasks"]) == ["user-realtime-features"]
    flags = {"backfill": ["--source", EVENTS, "--from", "2026-01-01", "--to", "2026-01-02"],
             "all": ["--source", all_events]}
    started = time.time()
    procs, dirs = {}, {}
    for kind in ("backfill", "all"):
        config = os.path.join(tmp, "tasks-%s.json" % kind)
        with open(config, "w") as f:
            json.dump(tasks[kind], f, indent=2)
        for mode in ("BATCH", "STREAMING"):
            name = "%s-%s" % (kind, mode.lower())
            work = dirs[name] = os.path.join(tmp, name)
            os.makedirs(work)
            conf = jobrun.flink_conf_dir(os.path.join(work, "conf"), PYTHON, jobrun.backfill_flink_settings(mode))
            args = ["--tasks-config", config] + flags[kind] + ["--sink-dir", os.path.join(work, "out")]
            procs[name] = jobrun.flink_run(PYTHON, MAIN, args, conf, work, os.path.join(tmp, name + ".log"))
    jobrun.wait_all(procs, lambda name: os.path.join(tmp, name + ".log"))
    print("\nthe four flink-run runs took %.1fs together (logs in %s)" % (time.time() - started, tmp))
    yield dirs
    if not os.environ.get("RTF_KEEP_TMP"):
        shutil.rmtree(tmp, ignore_errors=True)


def rows_of(runs, run, task):
    """Rows of DIR/<task>.jsonl, in file order (the order the sink writer got them)."""
    return local.read_jsonl(os.path.join(runs[run], "out", task + ".jsonl"))


def canonical(rows):
    return sorted(json.dumps(r, sort_keys=True) for r in rows)


def tenants(rows, *names):
    return [r for r in rows if r["tenant_id"] in names]


# --- the runtime mode came from the configuration -------------------------------------------------

def test_runs_get_the_runtime_mode_of_their_flink_configuration(runs):
    for name, work in runs.items():
        log = jobrun.flink_log(work)
        assert "Loading configuration property: execution.runtime-mode, " in log, name
        batch = name.endswith("-batch")
        assert ("Loading configuration property: execution.runtime-mode, BATCH" in log) == batch, name
        # BATCH mode runs keyed operators on sorted inputs with this state backend; STREAMING never
        assert ("BatchExecutionStateBackend" in log) == batch, name
        assert "org.apache.flink.client.python.PythonDriver" in log, name


# --- the backfill: user-realtime-features over a date range ---------------------------------------

def test_backfill_batch_rows_equal_streaming_rows_and_hand_values(runs):
    # USER_FEATURES_SHANGHAI: the hand-computed rows in Asia/Shanghai (the backfill's time zone);
    # --to 2026-01-02 leaves out line 35 and with it u4's window at T0+18h.
    expected = [r for r in local.USER_FEATURES_SHANGHAI if r["window_start"] < T0 + 18 * H]
    assert len(expected) == len(local.USER_FEATURES_SHANGHAI) - 1
    keys = ("tenant_id", "user_id", "window_start")
    batch = rows_of(runs, "backfill-batch", "user-realtime-features")
    streaming = rows_of(runs, "backfill-streaming", "user-realtime-features")
    assert local.sort_rows(batch, *keys) == expected
    assert local.sort_rows(streaming, *keys) == expected
    for name in ("backfill-batch", "backfill-streaming"):
        assert os.listdir(os.path.join(runs[name], "out")) == ["user-realtime-features.jsonl"]


# --- all four tasks ------------------------------------------------------------------------------

def test_batch_user_features_and_dead_letters_equal_streaming(runs):
    keys = ("tenant_id", "user_id", "window_start")
    batch = rows_of(runs, "all-batch", "user-realtime-features")
    streaming = rows_of(runs, "all-streaming", "user-realtime-features")
    assert canonical(batch) == canonical(streaming)
    assert local.sort_rows(tenants(batch, "t1", "t2"), *keys) == local.USER_FEATURES_KOLKATA
    # t9: each of the 20 users has a row in each of the 48 hours, u99 in its 7 (see below)
    assert len(tenants(batch, "t9")) == GEN_HOURS * GEN_USERS + 7
    dead = [rows_of(runs, name, "behavior-etl.dead-letter") for name in ("all-batch", "all-streaming")]
    assert canonical(dead[0]) == canonical(dead[1])
    assert len(dead[0]) == len(local.DEAD_LETTERS)


def test_u99_hours_arithmetic():
    """u99's copies lie in [GEN_T0 + 0.5 s, GEN_T0 + 39*7 min + 100 min + 0.5 s] = up to +6h13m:
    hourly windows 0 to 6, 7 rows (the count used above)."""
    hours = {(e["timestamp"] - GEN_T0) // H for e in generated_events() if e["user_id"] == "u99"}
    assert hours == set(range(7))


def test_batch_item_hot_score_equals_streaming(runs):
    keys = ("tenant_id", "scenario_id", "window_end", "rank")
    batch = local.sort_rows(rows_of(runs, "all-batch", "item-hot-score"), *keys)
    streaming = local.sort_rows(rows_of(runs, "all-streaming", "item-hot-score"), *keys)
    # scores are sums of doubles, added in another order in each mode (last bits differ)
    assert batch == local.approx_rows(streaming)
    assert [r for r in batch if r["tenant_id"] == "t1"] == local.approx_rows(local.sort_rows(
        [r for w in (T0 + 15 * M, T0 + 30 * M, T0 + 45 * M, T0 + 60 * M)
         for r in local.hot_rows_t1_s1(w) + local.hot_rows_t1_s2(w)], *keys))
    assert len(tenants(batch, "t9")) > 100


def test_batch_counts_the_event_streaming_drops_as_late(runs):
    """events.jsonl line 16 (e13, CLICK at T0+5 s) comes after line 15 (T0+70 s) has moved the
    watermark to T0+65 s: in STREAMING mode minute 0 has fired, the click is dropped there (1 click
    of 4 impressions). In BATCH mode nothing is late: minute 0 has 2 clicks, ctr 2/4. Every other
    row, the generated tenant's included, is the same in both modes."""
    keys = ("tenant_id", "scenario_id", "window_start")
    batch = local.sort_rows(rows_of(runs, "all-batch", "recommendation-metrics"), *keys)
    streaming = local.sort_rows(rows_of(runs, "all-streaming", "recommendation-metrics"), *keys)
    expected_streaming = local.metrics_expected(3 / 4)              # complete_at 0.9: 3 of 4
    expected_batch = [dict(r, clicks=2, ctr=2 / 4) if (r["scenario_id"], r["window_start"]) == ("s1", T0) else r
                      for r in expected_streaming]
    assert expected_batch != expected_streaming
    assert tenants(streaming, "t1", "t2") == local.approx_rows(local.sort_rows(expected_streaming, *keys))
    assert tenants(batch, "t1", "t2") == local.approx_rows(local.sort_rows(expected_batch, *keys))
    assert tenants(batch, "t9") == local.approx_rows(tenants(streaming, "t9"))
    assert len(tenants(batch, "t9")) >= GEN_HOURS * 3


def test_batch_sink_writers_get_each_keys_windows_in_order(runs):
    """A file sink appends rows in the order its sink writer gets them. The batching sinks rely on
    that order being the windows' order per key: a MongoDB upsert / Redis hash / Pushgateway group
    keeps the row written last, which must be the latest window (as in STREAMING mode, where windows
    fire in watermark order). Before the fix, BATCH mode delivered them in no particular order."""
    for task, key in (("user-realtime-features", ("tenant_id", "user_id")),
                      ("item-hot-score", ("tenant_id", "scenario_id")),
                      ("recommendation-metrics", ("tenant_id", "scenario_id"))):
        for run in ("all-batch", "all-streaming"):
            ends = {}
            for row in rows_of(runs, run, task):
                ends.setdefault(tuple(row[k] for k in key), []).append(row["window_end"])
            first = ("t9", "s0") if key[1] == "scenario_id" else ("t9", "u0")
            assert len(ends[first]) >= GEN_HOURS          # many windows per key
            unordered = sorted(k for k, v in ends.items() if v != sorted(v))
            assert unordered == [], (run, task, unordered)


def generated_etl_rows():
    """The generated events behaviour ETL keeps, computed here: every g-* event (distinct ids); of
    each triple d<k> (copies 0, 50 and 100 min apart, dedupe_window 1 h) the first (kept), the
    second (50 min after the kept one: dropped) and the third (100 min after the kept one: outside
    the window, kept)."""
    rows = []
    for event in generated_events():
        if event["event_id"].startswith("d"):
            k = int(event["event_id"][1:])
            if event["timestamp"] == GEN_T0 + k * 7 * M + 500 + 50 * M:     # the middle copy
                continue
        day = datetime.datetime.fromtimestamp(event["timestamp"] / 1000, datetime.timezone.utc).strftime("%Y-%m-%d")
        rows.append(dict(event, event_date=day))
    return rows


def test_batch_dedupe_keeps_first_and_last_of_three_copies(runs):
    expected = local.expected_etl_rows() + generated_etl_rows()
    assert len(expected) == 27 + GEN_HOURS * GEN_USERS + 2 * GEN_TRIPLES
    for run in ("all-batch", "all-streaming"):
        rows = rows_of(runs, run, "behavior-etl")
        assert canonical(rows) == canonical(expected), run
