"""tasks.json: loading, validation, defaults and secrets.

tasks.json (written by flinkops into the ConfigMap <pipeline>-tasks):

    {"tasks": {"<task>": {"enabled": true|false, "params": {...}}}}

Every task parameter is documented, with its default, in README.md beside this file. A
parameter may be {"secret_env": "VAR"}: its value is read from the environment variable VAR.
Secrets are checked at start (the variable must exist) but resolved again inside the Flink
workers that use them, so secret values never travel inside the job graph. Only the parameters
a run actually uses are checked: with --source / --sink-dir the replaced source and sinks may
name variables that are not set.

Pure Python: no PyFlink import.
"""

import copy
import json
import os
import re

TASKS = ("user-realtime-features", "item-hot-score", "recommendation-metrics", "behavior-etl")
WINDOWED_TASKS = ("user-realtime-features", "item-hot-score", "recommendation-metrics")
DEAD_LETTER_FILE = "behavior-etl.dead-letter.jsonl"

SINK_KINDS = {
    "user-realtime-features": ("mongodb", "redis", "file", "kafka"),
    "item-hot-score": ("redis", "file", "kafka"),
    "recommendation-metrics": ("pushgateway", "file", "kafka"),
    "behavior-etl": ("clickhouse", "file", "kafka"),
}

ALL_SINK_KINDS = ("file", "kafka", "redis", "mongodb", "pushgateway", "clickhouse")

DEFAULT_JOB_LABEL = "flink-realtime-features"


class ParamError(Exception):
    """A problem in tasks.json or the command line; main prints it as `error: ...`, exit 2."""


# --- scalar parsers ---------------------------------------------------------------------------

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60000, "h": 3600000, "d": 86400000}


def parse_duration_ms(text):
    """"500ms", "5s", "20m", "1h", "1d", "1h30m" -> milliseconds (int). Raises ValueError."""
    if not isinstance(text, str):
        raise ValueError("must be a duration string such as \"5s\", \"20m\" or \"1h\"")
    s = text.strip()
    if s in ("0", ""):
        if s == "0":
            return 0
        raise ValueError("must be a duration string such as \"5s\", \"20m\" or \"1h\"")
    pos, total = 0, 0.0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if not m:
            raise ValueError("%r is not a duration (use e.g. \"500ms\", \"5s\", \"20m\", \"1h\", \"1d\")" % text)
        total += float(m.group(1)) * _UNIT_MS[m.group(2)]
        pos = m.end()
    if total != int(total):
        raise ValueError("%r is not a whole number of milliseconds" % text)
    return int(total)


def is_secret_ref(value):
    return isinstance(value, dict) and set(value) == {"secret_env"}


def resolve(value, where="parameter"):
    """Resolve {"secret_env": VAR} (at any depth) from the environment."""
    if is_secret_ref(value):
        var = value["secret_env"]
        if not isinstance(var, str) or not var:
            raise ParamError("%s: secret_env must name an environment variable" % where)
        if var not in os.environ:
            raise ParamError("%s: environment variable %s (secret_env) is not set" % (where, var))
        return os.environ[var]
    if isinstance(value, dict):
        return {k: resolve(v, "%s.%s" % (where, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, "%s[%d]" % (where, i)) for i, v in enumerate(value)]
    return value


def secret_vars(value):
    """Environment variables named by secret refs inside value."""
    if is_secret_ref(value):
        return [value["secret_env"]]
    if isinstance(value, dict):
        return [v for x in value.values() for v in secret_vars(x)]
    if isinstance(value, list):
        return [v for x in value for v in secret_vars(x)]
    return []


class _Params(object):
    """Reads one object of parameters, tracking which keys were used (the rest are errors)."""

    def __init__(self, obj, where):
        if obj is None:
            obj = {}
        if not isinstance(obj, dict) or is_secret_ref(obj):
            raise ParamError("%s: must be an object" % where)
        self.obj, self.where, self.used = obj, where, set()

    def _get(self, key):
        self.used.add(key)
        return self.obj.get(key)

    def _err(self, key, msg):
        return ParamError("%s.%s: %s" % (self.where, key, msg))

    def _no_secret(self, key, value):
        if is_secret_ref(value):
            raise self._err(key, "cannot be a secret")

    def string(self, key, default=None, required=False, choices=None, secret_ok=True):
        """A string, or a secret ref (kept unresolved)."""
        value = self._get(key)
        if value is None:
            if required:
                raise self._err(key, "is required")
            return default
        if is_secret_ref(value):
            if choices or not secret_ok:
                raise self._err(key, "cannot be a secret")
            return value
        if not isinstance(value, str) or value == "":
            raise self._err(key, "must be a non-empty string, got %s" % json.dumps(value))
        if choices and value not in choices:
            raise self._err(key, "must be one of %s, got %s" % (", ".join(choices), json.dumps(value)))
        return value

    def duration(self, key, default, positive=False, allow_none=False):
        value = self._get(key)
        self._no_secret(key, value)
        if value is None:
            value = default
        if value is None and allow_none:
            return None
        if allow_none and value in ("", "none", "0"):
            return None
        try:
            ms = parse_duration_ms(value)
        except ValueError as e:
            raise self._err(key, str(e))
        if positive and ms <= 0:
            raise self._err(key, "must be a positive duration, got %s" % json.dumps(value))
        return ms

    def integer(self, key, default, minimum=None):
        value = self._get(key)
        self._no_secret(key, value)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._err(key, "must be an integer, got %s" % json.dumps(value))
        if minimum is not None and value < minimum:
            raise self._err(key, "must be >= %d, got %d" % (minimum, value))
        return value

    def number(self, key, default):
        value = self._get(key)
        self._no_secret(key, value)
        if value is None:
            return float(default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._err(key, "must be a number, got %s" % json.dumps(value))
        return float(value)

    def boolean(self, key, default):
        value = self._get(key)
        self._no_secret(key, value)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self._err(key, "must be true or false, got %s" % json.dumps(value))
        return value

    def obj_raw(self, key):
        value = self._get(key)
        if value is None:
            return None
        if not isinstance(value, dict) or is_secret_ref(value):
            raise self._err(key, "must be an object")
        return value

    def string_map(self, key):
        """An object of string (or secret) values, e.g. Kafka client properties."""
        value = self.obj_raw(key) or {}
        out = {}
        for k, v in value.items():
            if isinstance(v, bool):
                v = "true" if v else "false"
            elif isinstance(v, (int, float)):
                v = str(v)
            if not (isinstance(v, str) or is_secret_ref(v)):
                raise ParamError("%s.%s.%s: must be a string" % (self.where, key, k))
            out[k] = v
        return out

    def finish(self):
        unknown = sorted(set(self.obj) - self.used)
        if unknown:
            known = sorted(self.used)
            raise ParamError("%s: unknown parameter%s %s (known: %s)" % (
                self.where, "s" if len(unknown) > 1 else "", ", ".join(unknown), ", ".join(known)))


# --- sources and sinks ------------------------------------------------------------------------

def normalize_source(obj, where):
    p = _Params(obj, where)
    kind = p.string("kind", required=True, choices=("kafka", "file"))
    if kind == "file":
        out = {"kind": "file", "path": p.string("path", required=True, secret_ok=False)}
    else:
        out = {
            "kind": "kafka",
            "bootstrap_servers": p.string("bootstrap_servers", required=True),
            "topic": p.string("topic", required=True),
            "group_id": p.string("group_id", DEFAULT_JOB_LABEL),
            "startup_mode": p.string("startup_mode", "group-offsets",
                                     choices=("group-offsets", "earliest-offset", "latest-offset")),
            "offset_reset": p.string("offset_reset", "latest", choices=("latest", "earliest", "none")),
            "idle_timeout_ms": p.duration("idle_timeout", "1m", allow_none=True),
            "properties": p.string_map("properties"),
        }
    p.finish()
    return out


def _batching(p):
    return {
        "batch_size": p.integer("batch_size", 500, minimum=1),
        "flush_interval_ms": p.duration("flush_interval", "1s", positive=True),
        "max_retries": p.integer("max_retries", 5, minimum=0),
        "retry_backoff_ms": p.duration("retry_backoff", "500ms"),
        "timeout_ms": p.duration("timeout", "10s", positive=True),
    }


def normalize_sink(task, name, obj, where, allowed=None):
    if obj is not None and not isinstance(obj, dict):
        raise ParamError("%s: must be an object" % where)
    obj = dict(obj or {})
    allowed = allowed or SINK_KINDS[task]
    if "kind" not in obj and name in ALL_SINK_KINDS:
        obj["kind"] = name  # sinks = { redis = {...} } means kind "redis"
    p = _Params(obj, where)
    kind = p.string("kind", required=True, choices=allowed)
    out = {"name": name, "kind": kind}
    if kind == "file":
        out["path"] = p.string("path", required=True, secret_ok=False)
    elif kind == "kafka":
        out.update(bootstrap_servers=p.string("bootstrap_servers", required=True),
                   topic=p.string("topic", required=True),
                   properties=p.string_map("properties"))
    elif kind == "redis":
        default_ttl = "2h" if task == "item-hot-score" else None
        out.update(host=p.string("host", required=True),
                   port=p.integer("port", 6379, minimum=1),
                   db=p.integer("db", 0, minimum=0),
                   username=p.string("username"),
                   password=p.string("password"),
                   tls=p.boolean("tls", False),
                   ttl_ms=p.duration("ttl", default_ttl, positive=task == "item-hot-score",
                                     allow_none=task != "item-hot-score"))
        out.update(_batching(p))
    elif kind == "mongodb":
        out.update(uri=p.string("uri", required=True),
                   database=p.string("database", required=True),
                   collection=p.string("collection", "user_profiles"))
        out.update(_batching(p))
    elif kind == "pushgateway":
        out.update(url=p.string("url", required=True),
                   job=p.string("job", DEFAULT_JOB_LABEL),
                   username=p.string("username"),
                   password=p.string("password"))
        out.update(_batching(p))
    elif kind == "clickhouse":
        out.update(url=p.string("url", required=True),
                   database=p.string("database", "default"),
                   table=p.string("table", "user_behaviors"),
                   user=p.string("user", "default"),
                   password=p.string("password"),
                   async_insert=p.boolean("async_insert", True))
        out.update(_batching(p))
    p.finish()
    return out


# --- tasks ------------------------------------------------------------------------------------

_WEIGHT_KEYS = {"view": "VIEW", "like": "LIKE", "share": "SHARE"}


def _weights(p):
    raw = p.obj_raw("weights") or {}
    weights = {"VIEW": 1.0, "LIKE": 2.0, "SHARE": 3.0}
    for k, v in raw.items():
        action = _WEIGHT_KEYS.get(str(k).lower())
        if action is None:
            raise ParamError("%s.weights.%s: unknown action (weights are for view, like, share)" % (p.where, k))
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ParamError("%s.weights.%s: must be a number, got %s" % (p.where, k, json.dumps(v)))
        weights[action] = float(v)
    return weights


def _window(p, key, default):
    ms = p.duration(key, default, positive=True)
    if ms % 60000:
        raise p._err(key, "must be a whole number of minutes")
    return ms


def normalize_task(name, params, where):
    p = _Params(params, where)
    cfg = {"name": name, "max_ooo_ms": p.duration("max_out_of_orderness", "5s")}
    source = p.obj_raw("source")
    cfg["source"] = normalize_source(source, where + ".source") if source is not None else None
    sinks_obj = p.obj_raw("sinks")
    sinks = []
    for sink_name in sorted(sinks_obj or {}):
        sinks.append(normalize_sink(name, sink_name, sinks_obj[sink_name],
                                    "%s.sinks.%s" % (where, sink_name)))
    cfg["sinks"] = sinks
    if name == "user-realtime-features":
        cfg["window_ms"] = _window(p, "window", "1h")
        tz = p.string("timezone", "Asia/Shanghai", secret_ok=False)
        try:
            from rtf_events import load_zone
            load_zone(tz)
        except Exception:
            raise p._err("timezone", "unknown IANA time zone %s" % json.dumps(tz))
        cfg["timezone"] = tz
    elif name == "item-hot-score":
        cfg["window_ms"] = _window(p, "window", "1h")
        cfg["slide_ms"] = _window(p, "slide", "15m")
        if cfg["window_ms"] % cfg["slide_ms"]:
            raise p._err("window", "must be a multiple of slide")
        cfg["weights"] = _weights(p)
        cfg["half_life_ms"] = p.duration("half_life", "30m", positive=True)
        cfg["top_n"] = p.integer("top_n", 1000, minimum=1)
    elif name == "recommendation-metrics":
        cfg["window_ms"] = _window(p, "window", "1m")
        cfg["complete_at"] = p.number("complete_at", 0.9)
    elif name == "behavior-etl":
        cfg["dedupe_window_ms"] = p.duration("dedupe_window", "1h", positive=True)
        dl = p.obj_raw("dead_letter")
        cfg["dead_letter"] = (normalize_sink(name, "dead_letter", dl, where + ".dead_letter",
                                             allowed=("kafka", "file")) if dl is not None else None)
    p.finish()
    return cfg


def load_tasks(path):
    """Read tasks.json; return {task: {"enabled": bool, "params": raw params}} for all tasks."""
    try:
        with open(path, "r", encoding="utf-8") as f:
            doc = json.load(f)
    except OSError as e:
        raise ParamError("%s: cannot read: %s" % (path, e.strerror or e))
    except ValueError as e:
        raise ParamError("%s: not valid JSON: %s" % (path, e))
    if not isinstance(doc, dict) or not isinstance(doc.get("tasks"), dict):
        raise ParamError('%s: must be an object {"tasks": {"<task>": {"enabled": ..., "params": {...}}}}' % path)
    extra = sorted(set(doc) - {"tasks"})
    if extra:
        raise ParamError("%s: unknown top-level key(s) %s" % (path, ", ".join(extra)))
    out = {}
    for name, entry in doc["tasks"].items():
        where = "%s: tasks.%s" % (path, name)
        if name not in TASKS:
            raise ParamError("%s: unknown task (known: %s)" % (where, ", ".join(TASKS)))
        if not isinstance(entry, dict):
            raise ParamError("%s: must be an object with enabled and params" % where)
        extra = sorted(set(entry) - {"enabled", "params"})
        if extra:
            raise ParamError("%s: unknown key(s) %s" % (where, ", ".join(extra)))
        enabled = entry.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ParamError("%s.enabled: must be true or false" % where)
        params = entry.get("params", {})
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise ParamError("%s.params: must be an object" % where)
        out[name] = {"enabled": enabled, "params": params}
    return out


def build_plan(tasks_path, source_file=None, sink_dir=None):
    """Validate tasks.json for this run. Returns a plan dict:

    {"tasks": {name: cfg} (enabled tasks only, in TASKS order), "source": {...},
     "disabled": [names], "local_files": [paths to truncate at start]}
    """
    entries = load_tasks(tasks_path)
    plan = {"tasks": {}, "disabled": [], "local_files": []}
    sources = []
    for name in TASKS:
        entry = entries.get(name)
        if entry is None:
            plan["disabled"].append(name)
            continue
        where = "%s: tasks.%s.params" % (tasks_path, name)
        cfg = normalize_task(name, entry["params"], where)  # disabled tasks too: typos show now
        if not entry["enabled"]:
            plan["disabled"].append(name)
            continue
        if cfg["source"] is not None:
            sources.append((name, cfg["source"]))
        if sink_dir is not None:
            cfg["sinks"] = [{"name": "local", "kind": "file",
                             "path": os.path.join(sink_dir, name + ".jsonl")}]
            if name == "behavior-etl":
                cfg["dead_letter"] = {"name": "dead_letter", "kind": "file",
                                      "path": os.path.join(sink_dir, DEAD_LETTER_FILE)}
        elif not cfg["sinks"]:
            raise ParamError("%s.sinks: the task is enabled but has no sink (give sinks, or run with --sink-dir)" % where)
        for sink in cfg["sinks"] + ([cfg["dead_letter"]] if cfg.get("dead_letter") else []):
            for var in secret_vars(sink):
                resolve({"secret_env": var}, "%s.sinks.%s" % (where, sink["name"]))
            if sink["kind"] == "file":
                plan["local_files"].append(sink["path"])
        plan["tasks"][name] = cfg
    if not plan["tasks"]:
        raise ParamError("%s: no task is enabled" % tasks_path)
    if source_file is not None:
        plan["source"] = {"kind": "file", "path": source_file}
    else:
        if not sources:
            raise ParamError("%s: no enabled task has a source parameter (or run with --source)" % tasks_path)
        first_name, first = sources[0]
        for name, src in sources[1:]:
            if src != first:
                raise ParamError("%s: tasks %s and %s name different sources; all tasks share one source"
                                 % (tasks_path, first_name, name))
        plan["source"] = copy.deepcopy(first)
        if first["kind"] == "kafka":
            plan["source"]["properties"] = resolve(first["properties"],
                                                   "%s: tasks.%s.params.source.properties" % (tasks_path, first_name))
            for key in ("bootstrap_servers", "topic", "group_id"):
                plan["source"][key] = resolve(first[key], "%s: tasks.%s.params.source.%s" % (tasks_path, first_name, key))
    for cfg in plan["tasks"].values():
        cfg.pop("source", None)
        for sink in cfg["sinks"] + ([cfg["dead_letter"]] if cfg.get("dead_letter") else []):
            if sink["kind"] == "kafka":
                sink["properties"] = resolve(sink["properties"], "%s: %s sink %s" % (tasks_path, cfg["name"], sink["name"]))
                for key in ("bootstrap_servers", "topic"):
                    sink[key] = resolve(sink[key], "%s: %s sink %s.%s" % (tasks_path, cfg["name"], sink["name"], key))
    return plan
