"""flinkops SQL runner: runs the statements of a Flink SQL file with PyFlink (the `sql` job kind).

    python sql_runner.py --sql FILE [--param KEY=VALUE ...] [--detached] [--dry-run]

flinkops writes this file into the bundle of every `sql` job and starts it like a python job
(PythonDriver -py <this file> --sql <the SQL file> [job.args]). Only PyFlink is needed.

The file:
  * Statements end with `;` (the last one may omit it). A `;` inside a '...' string, a `...`
    or "..." identifier, a -- line comment or a /* block comment */ does not end a statement;
    statements that hold only whitespace and comments are ignored.
  * `${KEY}` is replaced by the value of `--param KEY=VALUE`, `${env:NAME}` by the environment
    variable NAME (e.g. a password that flinkops puts into the container from a Secret).
    Values are inserted verbatim. Every placeholder must have a value; `$${` stands for a
    literal `${`. --param keys that the file does not use are reported on stderr.
  * `SET 'key' = 'value';` sets a configuration option for the statements after it (and for the
    job); `RESET 'key';` removes it, `RESET;` removes every key the file set.
    `SET 'execution.runtime-mode' = 'batch';` (or 'streaming', the default) anywhere in the file
    chooses the mode of the one TableEnvironment (a file that sets both modes is an error).
  * Every INSERT (also `EXECUTE INSERT ...`, and those inside `BEGIN STATEMENT SET; ... END;` or
    `EXECUTE STATEMENT SET BEGIN ... END;`) goes into ONE statement set, submitted after the
    last statement: a file with several INSERTs runs as one Flink job. Other statements (CREATE,
    DROP, ALTER, USE, LOAD MODULE, SHOW, DESCRIBE, EXPLAIN, SELECT, ...) run in file order with
    TableEnvironment.execute_sql; results with rows (SHOW, SELECT, ...) are printed to stdout.
  * The runner waits until the job ends (a bounded job ends by itself; an unbounded streaming
    job runs until it is stopped, as a python job's env.execute() does) unless --detached.

--dry-run prints the statements as JSON lines ({"line", "kind", "sql"}) without PyFlink.

Exit status: 0 done; 1 a statement or the job failed; 2 bad arguments or a bad SQL file
(unreadable, unterminated string or comment, missing parameter, no statement, both modes).
"""

import argparse
import json
import os
import re
import sys


class SqlFileError(Exception):
    """A problem with the SQL file or the arguments (exit status 2)."""


# --- splitting ----------------------------------------------------------------------------------

_QUOTES = {"'": "string", "`": "identifier", '"': "identifier"}


def _line_of(text, pos):
    return text.count("\n", 0, pos) + 1


def split_statements(text):
    """Split SQL text at the `;` that end statements. Returns [(sql, line)]: each statement's
    text from its first character that is not whitespace or comment up to (not including) its
    `;`, right-stripped, and the 1-based line where it starts. Quotes are closed by the same
    character; a doubled quote character stands for itself. Comments stay inside statements
    (Flink parses them; /*+ hints */ matter) but a statement that is only comments is dropped."""
    statements = []
    i, n = 0, len(text)
    first = None  # position of the current statement's first code character
    while i < n:
        c = text[i]
        if c in _QUOTES:
            if first is None:
                first = i
            j = i + 1
            while True:
                j = text.find(c, j)
                if j < 0:
                    raise SqlFileError("unterminated %s (%s) starting at line %d"
                                       % (_QUOTES[c], c, _line_of(text, i)))
                if j + 1 < n and text[j + 1] == c:
                    j += 2
                    continue
                break
            i = j + 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise SqlFileError("unterminated /* comment starting at line %d" % _line_of(text, i))
            i = j + 2
        elif c == ";":
            if first is not None:
                statements.append((text[first:i].rstrip(), _line_of(text, first)))
            first = None
            i += 1
        else:
            if first is None and not c.isspace():
                first = i
            i += 1
    if first is not None:
        tail = text[first:].rstrip()
        if tail:
            statements.append((tail, _line_of(text, first)))
    return statements


def _words(sql, count):
    """The first `count` words of a statement (upper-cased, comments skipped) as [(word, end)]."""
    out, i, n = [], 0, len(sql)
    while i < n and len(out) < count:
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif sql[i].isalpha() or sql[i] == "_":
            j = i
            while j < n and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            out.append((sql[i:j].upper(), j))
            i = j
        elif sql[i].isspace():
            i += 1
        else:
            break  # punctuation, a quote, a number: no more keywords
    return out


_SET = re.compile(r"^SET\s+'((?:[^']|'')*)'\s*=\s*'((?:[^']|'')*)'\s*$", re.IGNORECASE | re.DOTALL)
_RESET = re.compile(r"^RESET(?:\s+'((?:[^']|'')*)')?\s*$", re.IGNORECASE | re.DOTALL)


def _strip_comments(sql):
    """sql without comments (strings kept), for matching SET/RESET."""
    out, i, n = [], 0, len(sql)
    while i < n:
        c = sql[i]
        if c in _QUOTES:
            j = i + 1
            while True:
                j = sql.find(c, j)
                if j < 0:
                    j = n - 1
                    break
                if j + 1 < n and sql[j + 1] == c:
                    j += 2
                    continue
                break
            out.append(sql[i:j + 1])
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
            out.append(" ")
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
            out.append(" ")
        else:
            out.append(c)
            i += 1
    return "".join(out).strip()


class Statement(object):
    """One statement: kind is one of set, reset, insert, begin, end, query, other."""

    __slots__ = ("sql", "line", "kind", "key", "value")

    def __init__(self, sql, line, kind, key=None, value=None):
        self.sql, self.line, self.kind, self.key, self.value = sql, line, kind, key, value

    def as_dict(self):
        d = {"line": self.line, "kind": self.kind, "sql": self.sql}
        if self.key is not None:
            d["key"] = self.key
        if self.value is not None:
            d["value"] = self.value
        return d

    def head(self):
        first = self.sql.split("\n", 1)[0]
        return first if len(first) <= 80 else first[:77] + "..."


def classify(sql, line):
    words = [w for w, _ in _words(sql, 4)]
    if words[:1] == ["SET"]:
        m = _SET.match(_strip_comments(sql))
        if not m:
            raise SqlFileError("line %d: SET must look like SET 'key' = 'value'" % line)
        return Statement(sql, line, "set", m.group(1).replace("''", "'"), m.group(2).replace("''", "'"))
    if words[:1] == ["RESET"]:
        m = _RESET.match(_strip_comments(sql))
        if not m:
            raise SqlFileError("line %d: RESET must look like RESET 'key' or RESET" % line)
        return Statement(sql, line, "reset", None if m.group(1) is None else m.group(1).replace("''", "'"))
    if words[:3] == ["BEGIN", "STATEMENT", "SET"] and len(words) == 3:
        return Statement(sql, line, "begin")
    if words == ["END"]:
        return Statement(sql, line, "end")
    if words[:4] == ["EXECUTE", "STATEMENT", "SET", "BEGIN"]:
        # EXECUTE STATEMENT SET BEGIN INSERT ...; INSERT ...; END; -- the split cut it at the
        # first `;`: the rest of this piece is the first INSERT (the others and END follow)
        cut = _words(sql, 4)[3][1]
        rest = sql[cut:].lstrip()
        rest_line = line + sql[:len(sql) - len(rest)].count("\n")
        return Statement(rest, rest_line, "begin+insert" if rest else "begin")
    if words[:1] == ["EXECUTE"] and words[1:2] == ["INSERT"]:
        return Statement(sql[_words(sql, 1)[0][1]:].strip(), line, "insert")
    if words[:1] == ["INSERT"]:
        return Statement(sql, line, "insert")
    if words[:1] in (["SELECT"], ["WITH"], ["VALUES"]):
        return Statement(sql, line, "query")
    return Statement(sql, line, "other")


def parse_sql(text):
    """SQL text (parameters already substituted) -> [Statement]; statement-set blocks checked."""
    statements = []
    in_block = False
    for sql, line in split_statements(text):
        st = classify(sql, line)
        if st.kind in ("begin", "begin+insert"):
            if in_block:
                raise SqlFileError("line %d: statement set inside a statement set" % line)
            in_block = True
            if st.kind == "begin+insert":
                st.kind = "insert"
        elif st.kind == "end":
            if not in_block:
                raise SqlFileError("line %d: END without BEGIN STATEMENT SET" % line)
            in_block = False
        elif in_block and st.kind != "insert":
            raise SqlFileError("line %d: only INSERT statements may stand inside a statement set" % line)
        statements.append(st)
    if in_block:
        raise SqlFileError("the statement set opened by BEGIN has no END")
    if not any(st.kind not in ("begin", "end") for st in statements):
        raise SqlFileError("no SQL statement in the file")
    return statements


# --- parameters ---------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\$\$\{|\$\{([^}\n]*)\}")
_PARAM_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def parse_params(items):
    params = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not _PARAM_KEY.match(key):
            raise SqlFileError("--param %s: expected KEY=VALUE with KEY of letters, digits, _ . -" % item)
        params[key] = value
    return params


def substitute(text, params, environ=None):
    """Replace ${KEY} by params[KEY], ${env:NAME} by environ[NAME], $${ by ${.
    Returns (text, used keys); raises SqlFileError naming every missing value."""
    environ = os.environ if environ is None else environ
    used, missing = set(), []

    def repl(m):
        if m.group(0) == "$${":
            return "${"
        name = m.group(1)
        if name.startswith("env:"):
            var = name[4:]
            if var in environ:
                return environ[var]
            missing.append("environment variable %s (line %d)" % (var, _line_of(text, m.start())))
            return m.group(0)
        if not _PARAM_KEY.match(name):
            missing.append("bad placeholder ${%s} (line %d)" % (name, _line_of(text, m.start())))
            return m.group(0)
        if name in params:
            used.add(name)
            return params[name]
        missing.append("--param %s (line %d)" % (name, _line_of(text, m.start())))
        return m.group(0)

    out = _PLACEHOLDER.sub(repl, text)
    if missing:
        raise SqlFileError("no value for " + ", ".join(missing))
    return out, used


def runtime_mode(statements):
    modes = {st.value.strip().lower() for st in statements
             if st.kind == "set" and st.key.strip() == "execution.runtime-mode"}
    unknown = modes - {"batch", "streaming"}
    if unknown:
        raise SqlFileError("execution.runtime-mode must be 'streaming' or 'batch', not %s" % ", ".join(sorted(unknown)))
    if len(modes) > 1:
        raise SqlFileError("the file sets execution.runtime-mode to both 'batch' and 'streaming'; "
                           "one job has one mode")
    return modes.pop() if modes else "streaming"


def load(path, params):
    try:
        with open(path, "r", encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise SqlFileError("%s: cannot read: %s" % (path, e.strerror or e))
    except UnicodeDecodeError as e:
        raise SqlFileError("%s: not UTF-8: %s" % (path, e))
    if text.startswith("\ufeff"):
        text = text[1:]
    text, used = substitute(text, params)
    unused = sorted(set(params) - used)
    if unused:
        print("sql_runner: warning: --param %s not used by %s" % (", ".join(unused), path), file=sys.stderr)
    statements = parse_sql(text)
    return statements, runtime_mode(statements)


# --- running ------------------------------------------------------------------------------------

def run(statements, mode, detached=False, log=sys.stderr):
    from pyflink.table import EnvironmentSettings, ResultKind, TableEnvironment

    settings = (EnvironmentSettings.in_batch_mode() if mode == "batch"
                else EnvironmentSettings.in_streaming_mode())
    t_env = TableEnvironment.create(settings)
    config = t_env.get_config()
    if "PYFLINK_GATEWAY_PORT" not in os.environ:
        # a local mini cluster (not started by Flink's PythonDriver): Python UDFs use this Python
        config.set("python.executable", sys.executable)
        config.set("python.client.executable", sys.executable)
    print("sql_runner: %d statement(s), %s mode" % (len(statements), mode), file=log)

    set_keys = []
    statement_set, inserts = None, []
    for st in statements:
        where = "line %d: %s" % (st.line, st.head())
        try:
            if st.kind == "set":
                config.set(st.key, st.value)
                set_keys.append(st.key)
            elif st.kind == "reset":
                keys = set_keys if st.key is None else [st.key]
                for key in keys:
                    config.get_configuration().remove_config(key)
                set_keys = [] if st.key is None else [k for k in set_keys if k != st.key]
            elif st.kind in ("begin", "end"):
                pass
            elif st.kind == "insert":
                if statement_set is None:
                    statement_set = t_env.create_statement_set()
                statement_set.add_insert_sql(st.sql)
                inserts.append(st)
            else:
                result = t_env.execute_sql(st.sql)
                if result.get_result_kind() == ResultKind.SUCCESS_WITH_CONTENT:
                    result.print()
            print("sql_runner: ok %s" % where, file=log)
        except Exception as e:  # noqa: BLE001 - report which statement failed
            raise RuntimeError("%s\n%s" % (where, _java_message(e)))

    if statement_set is None:
        print("sql_runner: no INSERT: no job to submit", file=log)
        return
    try:
        result = statement_set.execute()
    except Exception as e:  # noqa: BLE001
        raise RuntimeError("submitting the statement set (%d INSERT, lines %s)\n%s" % (
            len(inserts), ", ".join(str(st.line) for st in inserts), _java_message(e)))
    client = result.get_job_client()
    job_id = client.get_job_id() if client is not None else None
    print("sql_runner: submitted one job (%d INSERT)%s" % (
        len(inserts), "" if job_id is None else ", job id %s" % job_id), file=log)
    if detached:
        return
    try:
        result.wait()
    except Exception as e:  # noqa: BLE001
        raise RuntimeError("the job failed\n%s" % _java_message(e))
    print("sql_runner: job finished", file=log)


def _java_message(e):
    # py4j errors carry whole Java stacks: keep the messages and "Caused by" lines
    lines = [line for line in str(e).splitlines()
             if line.strip() and not re.match(r"\s+(at |\.\.\. \d+ more)", line)]
    return "\n".join(lines[:20])


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="sql_runner.py",
        description="Run the statements of a Flink SQL file with PyFlink (flinkops sql job kind).")
    parser.add_argument("--sql", required=True, metavar="FILE", help="the SQL file")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="replace ${KEY} in the file by VALUE (repeatable)")
    parser.add_argument("--detached", action="store_true",
                        help="return once the job is submitted instead of waiting for its end")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the statements as JSON lines and exit (no PyFlink needed)")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        statements, mode = load(args.sql, parse_params(args.param))
    except SqlFileError as e:
        print("error: %s" % e, file=sys.stderr)
        return 2
    if args.dry_run:
        for st in statements:
            print(json.dumps(st.as_dict(), ensure_ascii=False))
        return 0
    try:
        run(statements, mode, detached=args.detached)
    except RuntimeError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
