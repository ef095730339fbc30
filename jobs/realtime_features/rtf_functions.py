"""PyFlink functions of the job: parsing, behaviour ETL dedupe, and the sink writer."""

import zlib

from pyflink.common import Row, Types
from pyflink.common.watermark_strategy import TimestampAssigner
from pyflink.datastream import KeyedProcessFunction, KeySelector, OutputTag, ProcessFunction, RuntimeContext
from pyflink.datastream.state import ListStateDescriptor, ValueStateDescriptor
from pyflink.datastream.time_domain import TimeDomain

import rtf_events as ev
from rtf_sinks import Rec, build_sink

EVENT_TYPE = Types.ROW_NAMED(
    list(ev.EVENT_COLUMNS),
    [Types.STRING(), Types.STRING(), Types.STRING(), Types.STRING(), Types.STRING(), Types.STRING(),
     Types.LONG(), Types.DOUBLE(), Types.DOUBLE(), Types.STRING()])

# behavior-etl's input: (event_id, timestamp, the output row already serialized as JSON)
ETL_TYPE = Types.ROW_NAMED(["event_id", "ts", "doc"], [Types.STRING(), Types.LONG(), Types.STRING()])
ETL_TAG = OutputTag("behavior-etl", ETL_TYPE)
DEAD_LETTER_TAG = OutputTag("dead-letter", Types.STRING())


class ParseEvents(ProcessFunction):
    """Line -> well-formed event (main output, for the windowed tasks), behaviour-ETL row (side
    output) or dead letter {"reason", "raw"} (side output, only when behavior-etl runs).

    `period` (morning/afternoon/evening) is computed in user-realtime-features' time zone.
    With a time_range [from, to) (epoch ms), well-formed events outside it are skipped."""

    def __init__(self, windowed, etl, timezone, skip_blank, time_range=None):
        self.windowed, self.etl, self.timezone, self.skip_blank = windowed, etl, timezone, skip_blank
        self.time_range = time_range

    def open(self, runtime_context: RuntimeContext):
        self.zone = ev.load_zone(self.timezone) if self.timezone else None
        group = runtime_context.get_metrics_group()
        self.malformed = group.counter("rtf_malformed_events")

    def process_element(self, value, ctx):
        line = value if isinstance(value, (str, bytes)) or value is None else value[0]
        line = ev.strip_line(line if line is not None else "")
        if self.skip_blank and not line.strip():
            return
        event, reason = ev.parse_line(line)
        if event is None:
            self.malformed.inc()
            if self.etl:
                yield DEAD_LETTER_TAG, ev.dead_letter_json(reason, line)
            return
        if self.time_range and not self.time_range[0] <= event.timestamp < self.time_range[1]:
            return
        if self.etl:
            yield ETL_TAG, Row(event.event_id, event.timestamp, ev.etl_json(event))
        if self.windowed:
            o = event.obj
            period = ev.period_of_hour(ev.local_hour(event.timestamp, self.zone)) if self.zone else None
            yield Row(o["event_id"], o["tenant_id"], o["scenario_id"], o["user_id"], o["item_id"],
                      o["action_type"], event.timestamp, event.duration(), event.progress(), period)


class TimestampFromField(TimestampAssigner):
    """Record timestamp = row[field] - minus. Only used in BATCH runtime mode (main.py): there
    Flink sorts the input of every keyed operator by key and then by record timestamp, and rows
    that come from a table carry none, so the rows of one key arrive in no particular order.
    With window_end - 1 a sink writer gets each key's windows in window order, as in STREAMING
    (so a batching sink, which keeps the last row it writes per user or tenant/scenario, ends
    with the latest window); with the event's timestamp behaviour ETL's dedupe sees the copies
    of an event_id in time order (the earliest is kept) instead of an arbitrary one."""

    def __init__(self, field, minus=0):
        self.field, self.minus = field, minus

    def extract_timestamp(self, value, record_timestamp):
        return value[self.field] - self.minus


# Event time of a timer that fires only with the end-of-input watermark (Long.MAX_VALUE).
END_OF_INPUT = 2 ** 63 - 1

# The sink writers key rows by crc32(natural key) % shards: writes are batched across many
# users/items, while one tenant/scenario (or user) always lands on the same key, in order. Window
# results come in bursts (every key flushes when its windows fire); behaviour ETL is a steady
# stream, so it uses fewer, fuller batches.
WINDOW_SHARDS = 128
ETL_SHARDS = 16


class ShardKey(KeySelector):
    """crc32 of the row's natural key (fields of a Row, or position 0) modulo shards."""

    def __init__(self, fields=None, shards=WINDOW_SHARDS):
        self.fields, self.shards = fields, shards

    def get_key(self, value):
        if self.shards == 1:
            return 0
        if self.fields:
            text = "\x1f".join(str(value[f]) for f in self.fields)
        else:
            text = str(value[0])
        return zlib.crc32(text.encode("utf-8")) % self.shards


class SinkWriter(KeyedProcessFunction):
    """Writes a task's rows to its sinks (rtf_sinks), keyed by ShardKey.

    File sinks get each row as it comes. Batching sinks (Redis, MongoDB, Pushgateway,
    ClickHouse) collect rows in Flink list state, so rows not yet written are part of every
    checkpoint (at-least-once), and write them when `batch_size` rows wait, `flush_interval`
    after the first one (processing time), when the watermark passes a row's window end
    (windowed tasks: every window is written as soon as it fires), and at the end of a bounded
    input. Windowed sinks (the hot-items ZSET) only ever get rows of windows that have ended."""

    def __init__(self, task, sinks, row_kind, window_field=None):
        self.task, self.sink_specs, self.row_kind, self.window_field = task, sinks, row_kind, window_field

    def open(self, runtime_context: RuntimeContext):
        self.sinks = [build_sink(self.task, spec) for spec in self.sink_specs]
        for sink in self.sinks:
            sink.open()
        self.immediate = [s for s in self.sinks if not s.batching]
        self.batching = [s for s in self.sinks if s.batching]
        self.buffers = [runtime_context.get_list_state(
            ListStateDescriptor("pending-%d-%s" % (i, s.name), Types.STRING()))
            for i, s in enumerate(self.batching)]
        specs = [s.spec for s in self.batching]
        self.flush_interval_ms = min([x["flush_interval_ms"] for x in specs] or [1000])
        self.batch_size = min([x["batch_size"] for x in specs] or [1])
        self.pending = {}          # key -> rows buffered since its last flush (this process)
        self.proc_timers = set()   # keys with a processing-time flush timer
        self.event_timers = set()  # (key, time) of registered event-time timers

    def to_rec(self, value):
        if self.row_kind == "line":
            return Rec(line=value)
        if self.row_kind == "etl":
            return Rec(line=value[1])
        return Rec(d=value.as_dict())

    def _event_timer(self, ctx, key, t):
        if (key, t) not in self.event_timers:
            ctx.timer_service().register_event_time_timer(t)
            self.event_timers.add((key, t))

    def process_element(self, value, ctx):
        rec = self.to_rec(value)
        for sink in self.immediate:
            sink.add(rec)
        if not self.batching:
            return
        key = ctx.get_current_key()
        for buf in self.buffers:
            buf.add(rec.line)
        self.pending[key] = self.pending.get(key, 0) + 1
        if key not in self.proc_timers:
            ctx.timer_service().register_processing_time_timer(
                ctx.timer_service().current_processing_time() + self.flush_interval_ms)
            self.proc_timers.add(key)
        self._event_timer(ctx, key, END_OF_INPUT)
        if self.window_field:
            self._event_timer(ctx, key, rec.dict[self.window_field] - 1)
        if self.pending[key] >= self.batch_size:
            self.flush(key, ctx)

    def on_timer(self, timestamp, ctx):
        key = ctx.get_current_key()
        if ctx.time_domain() == TimeDomain.EVENT_TIME:
            self.event_timers.discard((key, timestamp))
        else:
            self.proc_timers.discard(key)
        self.flush(key, ctx)
        return iter(())

    def flush(self, key, ctx):
        if not self.batching:
            return
        watermark = ctx.timer_service().current_watermark()
        for sink, buf in zip(self.batching, self.buffers):
            lines = list(buf.get() or [])
            if not lines:
                continue
            recs = [Rec(line=line) for line in lines]
            if sink.windowed:
                done = [r for r in recs if r.dict["window_end"] - 1 <= watermark]
                if done:
                    sink.write_rows(done)
                    rest = [r.line for r in recs if r.dict["window_end"] - 1 > watermark]
                    if rest:
                        buf.update(rest)
                    else:
                        buf.clear()
            else:
                sink.write_rows(recs)
                buf.clear()
        self.pending[key] = 0

    def close(self):
        errors = []
        for sink in getattr(self, "sinks", []):
            try:
                sink.close()
            except Exception as e:  # noqa: BLE001 - close every sink, then report
                errors.append(e)
        if errors:
            raise errors[0]


ETL_OUT_TYPE = Types.ROW_NAMED(["event_id", "doc"], [Types.STRING(), Types.STRING()])


class EtlDedupe(KeyedProcessFunction):
    """behavior-etl, keyed by event_id: the first copy to arrive is kept; later copies whose
    timestamp lies within dedupe_window of it are dropped. The kept timestamp is remembered
    (keyed state) until the watermark passes it + dedupe_window."""

    def __init__(self, dedupe_window_ms):
        self.dedupe_window_ms = dedupe_window_ms

    def open(self, runtime_context: RuntimeContext):
        self.kept = runtime_context.get_state(ValueStateDescriptor("kept_ts", Types.LONG()))
        self.duplicates = runtime_context.get_metrics_group().counter("rtf_duplicates_dropped")

    def process_element(self, value, ctx):
        event_id, ts, doc = value[0], value[1], value[2]
        kept = self.kept.value()
        if ev.is_duplicate(kept, ts, self.dedupe_window_ms):
            self.duplicates.inc()
            return
        self.kept.update(ts)
        ctx.timer_service().register_event_time_timer(ts + self.dedupe_window_ms)
        yield Row(event_id, doc)

    def on_timer(self, timestamp, ctx):
        kept = self.kept.value()
        if kept is not None and timestamp >= kept + self.dedupe_window_ms:
            self.kept.clear()
        return iter(())
