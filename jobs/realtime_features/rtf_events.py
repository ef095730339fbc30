"""Behaviour events: parsing, validation and the small pure helpers the tasks share.

Nothing here imports PyFlink, so these rules can be unit-tested with a plain Python.

An event is one JSON object per line (a Kafka message or a line of a JSON Lines file):

    event_id, tenant_id, scenario_id, user_id, item_id   non-empty strings
    action_type   IMPRESSION | CLICK | VIEW | LIKE | SHARE
    timestamp     integer epoch milliseconds (event time)
    duration      optional, on VIEW: seconds watched (a number)
    progress      optional, on VIEW: share watched, 0..1 (a number)

A malformed line gets exactly one reason, checked in this order:

    invalid_json     not valid JSON, or JSON that is not an object
    missing_field    a required field is absent, null or "" (or, for the id fields, not a
                     string); timestamp absent or null
    bad_timestamp    timestamp is not an integer (floats, strings and booleans are not), or
                     lies outside 0 .. 253402300799999 (year 9999)
    unknown_action   action_type is not one of the five names (case-sensitive; a number or
                     other non-string value is unknown too)

`duration` and `progress` are never a reason to reject an event: when they are not finite
numbers the metrics treat them as absent, and behaviour ETL passes them through unchanged.
"""

import datetime as _dt
import json
import math

REQUIRED_STRING_FIELDS = ("event_id", "tenant_id", "scenario_id", "user_id", "item_id", "action_type")
ACTIONS = ("IMPRESSION", "CLICK", "VIEW", "LIKE", "SHARE")
MAX_TIMESTAMP_MS = 253402300799999  # 9999-12-31T23:59:59.999Z

INVALID_JSON = "invalid_json"
MISSING_FIELD = "missing_field"
BAD_TIMESTAMP = "bad_timestamp"
UNKNOWN_ACTION = "unknown_action"
REASONS = (INVALID_JSON, MISSING_FIELD, BAD_TIMESTAMP, UNKNOWN_ACTION)

# The columns of a well-formed event as the windowed tasks see it (order matters: it is the
# row type handed to the Table API).
EVENT_COLUMNS = ("event_id", "tenant_id", "scenario_id", "user_id", "item_id", "action_type",
                 "ts", "duration", "progress", "period")


def _reject_constant(name):
    # json.loads accepts NaN, Infinity and -Infinity by default; JSON does not.
    raise ValueError("not JSON: " + name)


def _number(value):
    """A finite int/float (not bool) as float, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


class ParsedEvent(object):
    """A well-formed event: `obj` is the decoded JSON object, unchanged."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    @property
    def event_id(self):
        return self.obj["event_id"]

    @property
    def timestamp(self):
        return self.obj["timestamp"]

    @property
    def action_type(self):
        return self.obj["action_type"]

    def duration(self):
        return _number(self.obj.get("duration"))

    def progress(self):
        return _number(self.obj.get("progress"))


def parse_line(line):
    """Return (ParsedEvent, None) for a well-formed event, else (None, reason)."""
    if line is None:
        return None, INVALID_JSON
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError:
            return None, INVALID_JSON
    try:
        obj = json.loads(line, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None, INVALID_JSON
    if not isinstance(obj, dict):
        return None, INVALID_JSON
    for field in REQUIRED_STRING_FIELDS:
        value = obj.get(field)
        if value is None or value == "":
            return None, MISSING_FIELD
        if field != "action_type" and not isinstance(value, str):
            return None, MISSING_FIELD
    ts = obj.get("timestamp")
    if ts is None:
        return None, MISSING_FIELD
    if isinstance(ts, bool) or not isinstance(ts, int) or not 0 <= ts <= MAX_TIMESTAMP_MS:
        return None, BAD_TIMESTAMP
    action = obj["action_type"]
    if not isinstance(action, str) or action not in ACTIONS:
        return None, UNKNOWN_ACTION
    return ParsedEvent(obj), None


def strip_line(line):
    """The line as received, without its line terminator or a leading byte-order mark."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    if line.startswith("\ufeff"):
        line = line[1:]
    return line.rstrip("\r\n")


def dead_letter_json(reason, raw):
    return json.dumps({"reason": reason, "raw": raw}, ensure_ascii=False, separators=(",", ":"))


def event_date(ts_ms):
    """UTC calendar date of an epoch-ms timestamp, YYYY-MM-DD."""
    return (_dt.datetime(1970, 1, 1) + _dt.timedelta(milliseconds=ts_ms)).strftime("%Y-%m-%d")


def etl_json(event):
    """behavior-etl's row: the event's fields unchanged plus event_date (UTC)."""
    row = dict(event.obj)
    row["event_date"] = event_date(event.timestamp)
    return json.dumps(row, ensure_ascii=False, separators=(",", ":"))


# --- user-realtime-features: active period -------------------------------------------------

PERIODS = ("morning", "afternoon", "evening")  # tie-break order


def period_of_hour(hour):
    """morning 05-12, afternoon 12-18, evening 18-05 (local hours)."""
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 18:
        return "afternoon"
    return "evening"


def load_zone(name):
    from zoneinfo import ZoneInfo  # Python 3.9+; falls back to the tzdata package
    return ZoneInfo(name)


def local_hour(ts_ms, zone):
    utc = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(milliseconds=ts_ms)
    return utc.astimezone(zone).hour


def active_period(counts):
    """counts: {period: n}. The period with most events; ties go to the earlier of PERIODS."""
    best = PERIODS[0]
    for p in PERIODS[1:]:
        if counts.get(p, 0) > counts.get(best, 0):
            best = p
    return best


# --- behavior-etl: dedupe --------------------------------------------------------------------

def is_duplicate(kept_ts, ts, window_ms):
    """A copy of an event already kept (at kept_ts) is dropped while it lies within the window."""
    return kept_ts is not None and abs(ts - kept_ts) < window_ms
