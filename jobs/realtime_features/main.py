"""Realtime feature job (flinkops worked example): four tasks over one stream of behaviour events.

    python main.py --tasks-config FILE [--source EVENTS.jsonl] [--sink-dir DIR] [--from DATE] [--to DATE]

Tasks (enabled/disabled and parameterised in tasks.json, see README.md):
  user-realtime-features   1 h tumbling, per (tenant, user): views, likes, shares, active period
                           -> MongoDB user_profiles (upsert) and Redis hash user:profile:{user_id}
  item-hot-score           1 h sliding every 15 min, per tenant/scenario: decayed item scores, top N
                           -> Redis ZSET hot:items:{tenant_id}:{scenario_id} (replaced per window, TTL)
  recommendation-metrics   1 min tumbling, per tenant/scenario: impressions, clicks, CTR,
                           average watch time, completion rate -> Prometheus Pushgateway
  behavior-etl             clean (malformed lines -> dead letter), dedupe by event_id, add
                           event_date -> ClickHouse user_behaviors (HTTP, JSONEachRow)

--source reads a bounded JSON Lines file instead of the configured source (at its end every
window fires and the job ends); --sink-dir replaces every sink by DIR/<task>.jsonl (and
DIR/behavior-etl.dead-letter.jsonl); --from/--to keep only events in a UTC time range (backfills).
In the cluster flinkops runs it with `--tasks-config /opt/flink/conf/flinkops/tasks.json`.
"""

import argparse
import logging
import os
import sys
import time

JOB_DIR = os.path.dirname(os.path.abspath(__file__))
if JOB_DIR not in sys.path:
    sys.path.insert(0, JOB_DIR)

from rtf_params import WINDOWED_TASKS, ParamError, build_plan  # noqa: E402


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="main.py", description="Realtime feature job: user features, item hot scores, "
        "recommendation metrics and behaviour ETL from one stream of behaviour events.")
    parser.add_argument("--tasks-config", required=True, metavar="FILE",
                        help="tasks.json: {\"tasks\": {\"<task>\": {\"enabled\": ..., \"params\": {...}}}}")
    parser.add_argument("--source", metavar="EVENTS.jsonl",
                        help="read events from this JSON Lines file (bounded) instead of the tasks' source")
    parser.add_argument("--sink-dir", metavar="DIR",
                        help="write every task's rows to DIR/<task>.jsonl instead of its sinks")
    parser.add_argument("--from", dest="from_time", metavar="DATE",
                        help="only events at or after this UTC date/time (YYYY-MM-DD or ISO 8601), e.g. for a backfill")
    parser.add_argument("--to", dest="to_time", metavar="DATE",
                        help="only events before this UTC date/time (exclusive)")
    parser.add_argument("--job-name", default="flink-realtime-features", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def parse_time_ms(text, flag):
    """YYYY-MM-DD or an ISO 8601 date-time (UTC unless it has an offset) -> epoch ms."""
    import datetime as dt
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ParamError("%s %s: not a date (YYYY-MM-DD) or ISO 8601 date-time" % (flag, text))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return int(value.timestamp() * 1000)


def time_range(args):
    if args.from_time is None and args.to_time is None:
        return None
    lo = parse_time_ms(args.from_time, "--from") if args.from_time else 0
    hi = parse_time_ms(args.to_time, "--to") if args.to_time else 2 ** 63 - 1
    if lo >= hi:
        raise ParamError("--from %s is not before --to %s" % (args.from_time, args.to_time))
    return [lo, hi]


def describe(plan):
    src = plan["source"]
    where = src["path"] if src["kind"] == "file" else "%s/%s" % (src["bootstrap_servers"], src["topic"])
    lines = ["source: %s %s" % (src["kind"], where)]
    for name, cfg in plan["tasks"].items():
        sinks = ["%s(%s)" % (s["kind"], s["path"]) if s["kind"] == "file" else s["kind"] for s in cfg["sinks"]]
        lines.append("task %s -> %s" % (name, ", ".join(sinks)))
        if cfg.get("dead_letter"):
            dl = cfg["dead_letter"]
            lines.append("task %s dead letter -> %s" % (name, dl.get("path") or dl.get("topic")))
    for name in plan["disabled"]:
        lines.append("task %s disabled" % name)
    if plan.get("time_range"):
        lines.append("events with timestamp in [%d, %d) only" % tuple(plan["time_range"]))
    return "\n".join(lines)


# --- Kafka through Flink's Kafka SQL connector ------------------------------------------------

def kafka_options(spec):
    options = {"connector": "kafka", "topic": spec["topic"],
               "properties.bootstrap.servers": spec["bootstrap_servers"]}
    for key, value in sorted(spec.get("properties", {}).items()):
        options["properties." + key] = value
    return options


def kafka_source_ddl(src):
    options = kafka_options(src)
    options.update({"properties.group.id": src["group_id"], "scan.startup.mode": src["startup_mode"],
                    "properties.auto.offset.reset": src["offset_reset"], "format": "raw",
                    "raw.charset": "UTF-8"})
    opts = ",\n  ".join("'%s' = '%s'" % (k, str(v).replace("'", "''")) for k, v in options.items())
    return "CREATE TEMPORARY TABLE rtf_source (`line` STRING) WITH (\n  %s\n)" % opts


def kafka_sink_descriptor(spec, fmt, schema=None):
    from pyflink.table import TableDescriptor
    options = kafka_options(spec)
    builder = TableDescriptor.for_connector(options.pop("connector"))
    if schema is not None:
        builder = builder.schema(schema)
    for key, value in options.items():
        builder = builder.option(key, str(value))
    return builder.format(fmt).build()


# --- the job graph ----------------------------------------------------------------------------

def runs_as_batch(t_env, src):
    """True when Flink runs the job in BATCH runtime mode: `execution.runtime-mode: BATCH` in the
    Flink configuration (what flinkops emits for a bounded job, SPEC §13.4; in the cluster
    PythonDriver's environment carries it), or AUTOMATIC with the bounded file source."""
    mode = t_env.get_config().get("execution.runtime-mode", "STREAMING").strip().upper()
    return mode == "BATCH" or (mode == "AUTOMATIC" and src["kind"] == "file")


def in_time_order(ds, batch, field, minus=0):
    """ds, in BATCH mode with record timestamps row[field] - minus (see fn.TimestampFromField):
    the sort Flink puts before each keyed operator then delivers a key's rows in time order.
    STREAMING mode keeps ds as it is: its rows already come in watermark order, and a new
    watermark strategy would replace the table's watermarks, which the sink writers wait for."""
    if not batch:
        return ds
    from pyflink.common import WatermarkStrategy
    import rtf_functions as fn
    # (in BATCH mode Flink emits no watermarks but the final one, whatever the strategy)
    return ds.assign_timestamps_and_watermarks(
        WatermarkStrategy.for_monotonous_timestamps().with_timestamp_assigner(fn.TimestampFromField(field, minus)))


def build_job(plan, env, t_env):
    """Add the shared source and every enabled task to env (Kafka sinks through a statement set
    attached to env)."""
    from pyflink.common import Types, WatermarkStrategy
    from pyflink.datastream.connectors.base import Sink
    from pyflink.datastream.connectors.file_system import FileSource, StreamFormat
    from pyflink.java_gateway import get_gateway
    from pyflink.table import DataTypes, Schema
    from pyflink.table.expressions import col

    import rtf_functions as fn
    import rtf_sql

    def discard():
        jvm = get_gateway().jvm
        return Sink(jvm.org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink())

    tasks = plan["tasks"]
    statements = []

    # one shared source
    src = plan["source"]
    if src["kind"] == "file":
        # A bounded file: emit the watermark after every record (not every 200 ms), so which
        # events are late does not depend on how fast the file is read.
        t_env.get_config().set("pipeline.auto-watermark-interval", "0 ms")
        file_source = FileSource.for_record_stream_format(StreamFormat.text_line_format(), src["path"]).build()
        lines = env.from_source(file_source, WatermarkStrategy.no_watermarks(), "source: events file")
    else:
        if src.get("idle_timeout_ms"):
            t_env.get_config().set("table.exec.source.idle-timeout", "%d ms" % src["idle_timeout_ms"])
        t_env.execute_sql(kafka_source_ddl(src))
        lines = t_env.to_data_stream(t_env.from_path("rtf_source"))

    batch = runs_as_batch(t_env, src)
    windowed = [name for name in WINDOWED_TASKS if name in tasks]
    user = tasks.get("user-realtime-features")
    parsed = lines.process(
        fn.ParseEvents(windowed=bool(windowed), etl="behavior-etl" in tasks,
                       timezone=user["timezone"] if user else None,
                       skip_blank=src["kind"] == "file", time_range=plan.get("time_range")),
        output_type=fn.EVENT_TYPE).name("parse events")

    def with_watermarks(ds, max_ooo_ms):
        """ds as a table with `rowtime` and a watermark max(ts) - max_out_of_orderness."""
        return t_env.from_data_stream(ds, Schema.new_builder()
                                      .column_by_expression("rowtime", "TO_TIMESTAMP_LTZ(`ts`, 3)")
                                      .watermark("rowtime", rtf_sql.watermark_expr(max_ooo_ms))
                                      .build())

    for i, name in enumerate(windowed):
        cfg = tasks[name]
        view = "events_%d" % i
        t_env.create_temporary_view(view, with_watermarks(parsed, cfg["max_ooo_ms"]))
        result = t_env.sql_query(rtf_sql.TASK_SQL[name](view, cfg))
        python_sinks = [s for s in cfg["sinks"] if s["kind"] != "kafka"]
        for spec in cfg["sinks"]:
            if spec["kind"] == "kafka":
                statements.append((kafka_sink_descriptor(spec, "json"), result))
        if python_sinks:
            in_time_order(t_env.to_data_stream(result), batch, "window_end", 1) \
                .key_by(fn.ShardKey(rtf_sql.TASK_KEY_FIELDS[name]), key_type=Types.INT()) \
                .process(fn.SinkWriter(name, python_sinks, "row", window_field="window_end")) \
                .name("%s: write" % name) \
                .sink_to(discard()).name("%s: done" % name)

    etl = tasks.get("behavior-etl")
    if etl:
        python_sinks = [s for s in etl["sinks"] if s["kind"] != "kafka"]
        kafka_sinks = [s for s in etl["sinks"] if s["kind"] == "kafka"]
        # Same watermarks as the windowed tasks (the table planner's assigner), then back to a
        # DataStream for the keyed dedupe; the rowtime column itself is not needed there.
        etl_events = in_time_order(t_env.to_data_stream(
            with_watermarks(parsed.get_side_output(fn.ETL_TAG), etl["max_ooo_ms"])
            .select(col("event_id"), col("ts"), col("doc"))), batch, "ts")
        deduped = etl_events \
            .key_by(lambda r: r[0], key_type=Types.STRING()) \
            .process(fn.EtlDedupe(etl["dedupe_window_ms"]), output_type=fn.ETL_OUT_TYPE) \
            .name("behavior-etl: dedupe")
        if python_sinks:
            deduped.key_by(fn.ShardKey(shards=fn.ETL_SHARDS), key_type=Types.INT()) \
                .process(fn.SinkWriter("behavior-etl", python_sinks, "etl")).name("behavior-etl: write") \
                .sink_to(discard()).name("behavior-etl: done")
        if kafka_sinks:
            table = t_env.from_data_stream(deduped).select(col("doc"))
            for spec in kafka_sinks:
                statements.append((kafka_sink_descriptor(
                    spec, "raw", Schema.new_builder().column("doc", DataTypes.STRING()).build()), table))
        dl = etl.get("dead_letter")
        if dl is not None:
            dead = parsed.get_side_output(fn.DEAD_LETTER_TAG)
            if dl["kind"] == "kafka":
                statements.append((kafka_sink_descriptor(
                    dl, "raw", Schema.new_builder().column("f0", DataTypes.STRING()).build()),
                    t_env.from_data_stream(dead)))
            else:
                dead.key_by(fn.ShardKey(shards=1), key_type=Types.INT()) \
                    .process(fn.SinkWriter("behavior-etl", [dl], "line")).name("behavior-etl: dead letter") \
                    .sink_to(discard()).name("behavior-etl: dead letter done")

    if statements:
        statement_set = t_env.create_statement_set()
        for descriptor, table in statements:
            statement_set.add_insert(descriptor, table)
        statement_set.attach_as_datastream()


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(sys.argv[1:] if argv is None else argv)
    source = os.path.abspath(args.source) if args.source else None
    sink_dir = os.path.abspath(args.sink_dir) if args.sink_dir else None
    if source is not None and not os.path.isfile(source):
        print("error: --source %s: no such file" % args.source, file=sys.stderr)
        return 2
    try:
        plan = build_plan(args.tasks_config, source, sink_dir)
        plan["time_range"] = time_range(args)
    except ParamError as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    print(describe(plan), file=sys.stderr)

    # File sinks start empty; rows are appended by the workers.
    for path in plan["local_files"]:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        open(path, "w").close()

    from pyflink.datastream import StreamExecutionEnvironment
    from pyflink.table import StreamTableEnvironment

    # Started by Flink's PythonDriver (cluster) the gateway port is given; otherwise PyFlink
    # starts a local mini cluster: run it with parallelism 1 and this very interpreter.
    local = "PYFLINK_GATEWAY_PORT" not in os.environ
    env = StreamExecutionEnvironment.get_execution_environment()
    if local:
        env.set_parallelism(1)
        env.set_python_executable(sys.executable)
    env.add_python_file(JOB_DIR)  # the workers import this folder's rtf_* modules
    t_env = StreamTableEnvironment.create(env)
    config = t_env.get_config()
    config.set("table.local-time-zone", "UTC")  # windows aligned to the epoch
    config.set("pipeline.name", args.job_name)
    if local:
        config.set("python.executable", sys.executable)
        config.set("python.client.executable", sys.executable)

    build_job(plan, env, t_env)
    started = time.time()
    env.execute(args.job_name)
    # (PyFlink's local mode hands the root logger to Beam; report on stderr directly)
    print("job %s finished after %.1fs" % (args.job_name, time.time() - started), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
