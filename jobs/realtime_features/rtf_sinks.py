"""Sink writers used inside the Flink workers (rtf_functions.SinkWriter drives them).

Rows are written in batches, retrying with exponential backoff; after
`max_retries` failed attempts it raises, which fails the task and lets Flink restart it (from
the last checkpoint when checkpointing is on). Clients are imported lazily, so a run that only
writes JSON Lines files needs nothing but apache-flink.

Pure Python: no PyFlink import. Kafka sinks are not here: they use Flink's Kafka SQL connector.
"""

import base64
import json
import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request

from rtf_params import resolve

LOG = logging.getLogger("realtime_features.sinks")

METRIC_FIELDS = (
    ("recommendation_impressions", "impressions", "Impressions in the window"),
    ("recommendation_clicks", "clicks", "Clicks in the window"),
    ("recommendation_ctr", "ctr", "Clicks / impressions in the window (0 without impressions)"),
    ("recommendation_avg_watch_duration", "avg_watch_time",
     "Mean duration (seconds) of the window's VIEW events that carry one"),
    ("recommendation_completion_rate", "completion_rate",
     "Share of the window's VIEW events with a progress that reach complete_at"),
)


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class Rec(object):
    """One output row, as a dict and/or an already serialized JSON line (computed lazily)."""

    __slots__ = ("_d", "_line")

    def __init__(self, d=None, line=None):
        self._d, self._line = d, line

    @property
    def dict(self):
        if self._d is None:
            self._d = json.loads(self._line)
        return self._d

    @property
    def line(self):
        if self._line is None:
            self._line = dumps(self._d)
        return self._line


def with_retries(what, fn, max_retries, backoff_ms):
    attempt = 0
    while True:
        try:
            return fn()
        except Exception as e:  # noqa: BLE001 - any client error is retried, then re-raised
            if attempt >= max_retries:
                raise RuntimeError("%s failed after %d attempt(s): %s" % (what, attempt + 1, e)) from e
            delay = min(backoff_ms * (2 ** attempt), 30000) / 1000.0
            LOG.warning("%s failed (attempt %d of %d): %s; retrying in %.1fs",
                        what, attempt + 1, max_retries + 1, e, delay)
            time.sleep(delay)
            attempt += 1


def _opt(spec, key):
    value = spec.get(key)
    return None if value is None else resolve(value, "sink %s.%s" % (spec.get("name"), key))


def http_request(method, url, body=None, headers=None, timeout_s=10.0):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        detail = e.read()[:500].decode("utf-8", errors="replace")
        raise RuntimeError("HTTP %d from %s: %s" % (e.code, url.split("?")[0], detail.strip()))


def basic_auth(username, password):
    token = base64.b64encode(("%s:%s" % (username, password or "")).encode("utf-8")).decode("ascii")
    return {"Authorization": "Basic " + token}


class Sink(object):
    """Base class. `batching` sinks get lists of rows from rtf_functions.SinkWriter, which keeps
    the rows waiting for a write in Flink state (so a checkpoint never loses them); `windowed`
    sinks only get rows whose window has ended (watermark past window_end - 1). Sinks that are
    not batching get each row as it comes (add)."""

    batching = False
    windowed = False

    def __init__(self, task, spec):
        self.task, self.spec, self.name = task, spec, spec.get("name", spec["kind"])

    def open(self):
        pass

    def add(self, rec):
        raise NotImplementedError

    def write_rows(self, recs):
        raise NotImplementedError

    def close(self):
        pass


class FileSink(Sink):
    """JSON Lines, one row a line, appended as it comes (the driver truncates the file at start).
    Several subtasks may append to the same file: each line is one write() on an O_APPEND file."""

    def open(self):
        path = self.spec["path"]
        parent = os.path.dirname(os.path.abspath(path))
        os.makedirs(parent, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def add(self, rec):
        os.write(self._fd, (rec.line + "\n").encode("utf-8"))

    def close(self):
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None:
            os.close(fd)


class BatchingSink(Sink):
    batching = True

    def write_rows(self, recs):
        size = self.spec["batch_size"]
        for start in range(0, len(recs), size):
            batch = recs[start:start + size]
            with_retries("%s sink %s (%s)" % (self.task, self.name, self.spec["kind"]),
                         lambda: self.write(batch), self.spec["max_retries"], self.spec["retry_backoff_ms"])

    def write(self, batch):
        raise NotImplementedError

    @property
    def timeout_s(self):
        return self.spec["timeout_ms"] / 1000.0

    def close(self):
        client = getattr(self, "client", None)
        if client is not None:
            client.close()


def latest_per_key(batch, key_fields):
    """Keep, per key, the row of the latest window (rows of one batch may span windows)."""
    latest = {}
    for rec in batch:
        d = rec.dict
        key = tuple(d[f] for f in key_fields)
        if key not in latest or d["window_end"] >= latest[key]["window_end"]:
            latest[key] = d
    return list(latest.values())


def _redis_client(spec):
    import redis  # redis==5.2.1
    timeout_s = spec["timeout_ms"] / 1000.0
    return redis.Redis(host=_opt(spec, "host"), port=spec["port"], db=spec["db"],
                       username=_opt(spec, "username"), password=_opt(spec, "password"),
                       ssl=spec["tls"], socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                       decode_responses=True)


class RedisProfileSink(BatchingSink):
    """user-realtime-features -> Redis hash user:profile:{user_id} (HSET of the row's fields)."""

    def open(self):
        self.client = _redis_client(self.spec)

    def write(self, batch):
        pipe = self.client.pipeline(transaction=False)
        for row in latest_per_key(batch, ("tenant_id", "user_id")):
            key = "user:profile:%s" % row["user_id"]
            pipe.hset(key, mapping={k: str(v) for k, v in row.items()})
            if self.spec.get("ttl_ms"):
                pipe.pexpire(key, self.spec["ttl_ms"])
        pipe.execute()


class RedisHotItemsSink(BatchingSink):
    """item-hot-score -> Redis ZSET hot:items:{tenant_id}:{scenario_id}.

    The rows of one window (all ranks of one tenant/scenario) are written together once the
    watermark passes the window's end: DEL + ZADD + PEXPIRE in one MULTI/EXEC transaction, so
    readers see either the previous window's ranking or the new one, never a mix."""

    windowed = True

    def open(self):
        self.client = _redis_client(self.spec)

    def write_rows(self, recs):
        windows = {}  # (tenant, scenario, window_end) -> {item: score}
        for rec in recs:
            d = rec.dict
            windows.setdefault((d["tenant_id"], d["scenario_id"], d["window_end"]), {})[d["item_id"]] = float(d["score"])
        for key in sorted(windows):  # per tenant/scenario the latest window is written last
            zkey = "hot:items:%s:%s" % (key[0], key[1])
            members = windows[key]

            def write():
                pipe = self.client.pipeline(transaction=True)
                pipe.delete(zkey)
                pipe.zadd(zkey, members)
                pipe.pexpire(zkey, self.spec["ttl_ms"])
                pipe.execute()

            with_retries("%s sink %s (redis %s)" % (self.task, self.name, zkey), write,
                         self.spec["max_retries"], self.spec["retry_backoff_ms"])


class MongoProfileSink(BatchingSink):
    """user-realtime-features -> MongoDB collection (default user_profiles), upsert by
    (tenant_id, user_id); the document holds the row's fields."""

    def open(self):
        import pymongo  # pymongo==4.10.1
        ms = self.spec["timeout_ms"]
        self.client = pymongo.MongoClient(_opt(self.spec, "uri"), serverSelectionTimeoutMS=ms,
                                          connectTimeoutMS=ms, socketTimeoutMS=ms)
        self.collection = self.client[_opt(self.spec, "database")][_opt(self.spec, "collection")]

    def write(self, batch):
        from pymongo import UpdateOne
        ops = [UpdateOne({"tenant_id": row["tenant_id"], "user_id": row["user_id"]},
                         {"$set": row}, upsert=True)
               for row in latest_per_key(batch, ("tenant_id", "user_id"))]
        if ops:
            self.collection.bulk_write(ops, ordered=False)


def pushgateway_path(job, labels):
    """/metrics/job/<job>/<label>/<value>...; values with "/" (or empty) use the base64 form."""
    parts = []
    for name, value in [("job", job)] + list(labels):
        value = str(value)
        if value == "" or "/" in value:
            enc = base64.urlsafe_b64encode(value.encode("utf-8")).decode("ascii") or "="
            parts.append("%s@base64/%s" % (name, enc))
        else:
            parts.append("%s/%s" % (name, urllib.parse.quote(value, safe="")))
    return "/metrics/" + "/".join(parts)


def _metric_value(v):
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    return repr(float(v))


def exposition(row):
    """Prometheus text exposition format (version 0.0.4) of one recommendation-metrics row."""
    lines = []
    for metric, field, help_text in METRIC_FIELDS:
        lines.append("# HELP %s %s" % (metric, help_text))
        lines.append("# TYPE %s gauge" % metric)
        lines.append("%s %s" % (metric, _metric_value(row[field])))
    return "\n".join(lines) + "\n"


class PushgatewaySink(BatchingSink):
    """recommendation-metrics -> Prometheus Pushgateway, grouping key job/tenant_id/scenario_id.
    PUT replaces the group's metrics with the latest window's values."""

    def open(self):
        self.base = _opt(self.spec, "url").rstrip("/")
        self.job = _opt(self.spec, "job")
        self.headers = {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}
        user = _opt(self.spec, "username")
        if user is not None:
            self.headers.update(basic_auth(user, _opt(self.spec, "password")))

    def write(self, batch):
        rows = sorted(latest_per_key(batch, ("tenant_id", "scenario_id")), key=lambda r: r["window_end"])
        for row in rows:
            path = pushgateway_path(self.job, [("tenant_id", row["tenant_id"]),
                                               ("scenario_id", row["scenario_id"])])
            http_request("PUT", self.base + path, exposition(row).encode("utf-8"),
                         self.headers, self.timeout_s)


class ClickHouseSink(BatchingSink):
    """behavior-etl -> ClickHouse table (default user_behaviors) over HTTP, FORMAT JSONEachRow.
    Fields the table lacks are skipped (input_format_skip_unknown_fields=1). With async_insert
    (default) the server merges small inserts and answers once the rows are written."""

    def open(self):
        table = _opt(self.spec, "table").replace("`", "\\`")
        settings = {
            "database": _opt(self.spec, "database"),
            "query": "INSERT INTO `%s` FORMAT JSONEachRow" % table,
            "input_format_skip_unknown_fields": "1",
        }
        if self.spec.get("async_insert", True):
            settings.update(async_insert="1", wait_for_async_insert="1")
        query = urllib.parse.urlencode(settings)
        self.url = _opt(self.spec, "url").rstrip("/") + "/?" + query
        self.headers = {"Content-Type": "application/x-ndjson; charset=utf-8",
                        "X-ClickHouse-User": _opt(self.spec, "user")}
        password = _opt(self.spec, "password")
        if password is not None:
            self.headers["X-ClickHouse-Key"] = password

    def write(self, batch):
        body = ("\n".join(rec.line for rec in batch) + "\n").encode("utf-8")
        http_request("POST", self.url, body, self.headers, self.timeout_s)


def build_sink(task, spec):
    kind = spec["kind"]
    if kind == "file":
        return FileSink(task, spec)
    if kind == "redis":
        return RedisHotItemsSink(task, spec) if task == "item-hot-score" else RedisProfileSink(task, spec)
    if kind == "mongodb":
        return MongoProfileSink(task, spec)
    if kind == "pushgateway":
        return PushgatewaySink(task, spec)
    if kind == "clickhouse":
        return ClickHouseSink(task, spec)
    raise ValueError("sink kind %s is not written from Python" % kind)
