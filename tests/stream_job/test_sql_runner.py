"""The `sql` job kind's runner, src/bundle/sql_runner.py (SPEC §9.2), which flinkops embeds in its
binary and writes into every sql job's bundle.

Unit tests of the statement splitter, statement kinds, parameters and runtime mode (any Python,
no PyFlink), and two real runs with PyFlink (PYFLINK_PYTHON, or this Python if it has pyflink;
without either the real runs FAIL) on the fixture in tests/stream_job/sql/, started together:

  user_totals.sql   batch mode (SET in the file), orders.csv -> two filesystem sinks (JSON) by two
                    INSERTs that run as ONE job; ';' inside strings and comments
  print_stream.sql  streaming mode (the default), bounded datagen -> print sink, inside an
                    EXECUTE STATEMENT SET BEGIN ... END block
"""

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import pytest

import jobrun

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
RUNNER = os.path.join(REPO, "src", "bundle", "sql_runner.py")
SQL_DIR = os.path.join(HERE, "sql")

_spec = importlib.util.spec_from_file_location("sql_runner", RUNNER)
sr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sr)


def texts(sql):
    return [s for s, _ in sr.split_statements(sql)]


# --- splitting ----------------------------------------------------------------------------------

def test_split_basic_and_last_statement_without_semicolon():
    assert texts("SELECT 1; SELECT 2;\nSELECT 3") == ["SELECT 1", "SELECT 2", "SELECT 3"]
    assert texts("  SELECT 1  ;  \n\n") == ["SELECT 1"]


def test_semicolons_inside_strings_and_identifiers_do_not_split():
    sql = ("INSERT INTO t SELECT 'a;b', 'it''s; fine', `we;ird``col`, \"x;y\" FROM s;\n"
           "SELECT ';'")
    assert texts(sql) == ["INSERT INTO t SELECT 'a;b', 'it''s; fine', `we;ird``col`, \"x;y\" FROM s",
                          "SELECT ';'"]


def test_semicolons_inside_comments_do_not_split():
    sql = ("-- header; still a comment\n"
           "CREATE TABLE a (x INT) -- trailing; comment\n"
           "  WITH ('connector' = 'datagen');\n"
           "/* block ; comment\n spanning ; lines */\n"
           "SELECT /*+ OPTIONS('k'='v;w') */ x FROM a; -- after; the end")
    assert texts(sql) == [
        "CREATE TABLE a (x INT) -- trailing; comment\n  WITH ('connector' = 'datagen')",
        "SELECT /*+ OPTIONS('k'='v;w') */ x FROM a",     # the hint stays in the statement
    ]


def test_comment_markers_inside_strings_and_quotes_inside_comments():
    assert texts("SELECT '--not a comment;'; SELECT '/* nor; this */'") == [
        "SELECT '--not a comment;'", "SELECT '/* nor; this */'"]
    assert texts("-- it's a comment\nSELECT 1; /* don't */ SELECT 2") == ["SELECT 1", "SELECT 2"]


def test_empty_and_comment_only_statements_are_ignored():
    assert texts(";;  ;\n-- only a comment;\n/* and; another */ ;SELECT 1;;") == ["SELECT 1"]
    assert texts("") == []
    assert texts("-- nothing") == []


def test_statement_lines():
    sql = "-- c\n\nSELECT 1;\n/* x\n*/ SELECT\n2;SELECT 3"
    assert sr.split_statements(sql) == [("SELECT 1", 3), ("SELECT\n2", 5), ("SELECT 3", 6)]


@pytest.mark.parametrize("sql,message", [
    ("SELECT 'abc; SELECT 2", "unterminated string (') starting at line 1"),
    ("SELECT 1;\nSELECT `x", "unterminated identifier (`) starting at line 2"),
    ("SELECT 1; /* open\n\n", "unterminated /* comment starting at line 1"),
    ("SELECT 'it''s", "unterminated string"),
])
def test_unterminated(sql, message):
    with pytest.raises(sr.SqlFileError, match=re.escape(message)):
        sr.split_statements(sql)


# --- statement kinds ----------------------------------------------------------------------------

def kinds(sql):
    return [(st.kind, st.sql) for st in sr.parse_sql(sql)]


def test_kinds():
    sql = ("SET 'execution.runtime-mode' = 'batch'; set 'a.b' = 'it''s';\n"
           "CREATE TABLE t (x INT) WITH ('connector' = 'blackhole');\n"
           "-- lead comment\nINSERT INTO t SELECT 1; EXECUTE INSERT INTO t SELECT 2;\n"
           "RESET 'a.b'; RESET; SELECT 3; WITH q AS (SELECT 1) SELECT * FROM q; SHOW TABLES")
    st = sr.parse_sql(sql)
    assert [s.kind for s in st] == ["set", "set", "other", "insert", "insert", "reset", "reset",
                                    "query", "query", "other"]
    assert (st[0].key, st[0].value) == ("execution.runtime-mode", "batch")
    assert (st[1].key, st[1].value) == ("a.b", "it's")
    assert st[3].sql == "INSERT INTO t SELECT 1" and st[3].line == 4
    assert st[4].sql == "INSERT INTO t SELECT 2"          # EXECUTE dropped
    assert (st[5].key, st[6].key) == ("a.b", None)


def test_statement_set_blocks():
    assert kinds("BEGIN STATEMENT SET; INSERT INTO a SELECT 1; INSERT INTO b SELECT 2; END;") == [
        ("begin", "BEGIN STATEMENT SET"), ("insert", "INSERT INTO a SELECT 1"),
        ("insert", "INSERT INTO b SELECT 2"), ("end", "END")]
    st = sr.parse_sql("CREATE VIEW v AS SELECT 1;\nEXECUTE STATEMENT SET\nBEGIN\n  INSERT INTO a SELECT 1;\n"
                      "  INSERT INTO b SELECT 'x;y';\nEND;")
    assert [(s.kind, s.sql, s.line) for s in st] == [
        ("other", "CREATE VIEW v AS SELECT 1", 1), ("insert", "INSERT INTO a SELECT 1", 4),
        ("insert", "INSERT INTO b SELECT 'x;y'", 5), ("end", "END", 6)]


@pytest.mark.parametrize("sql,message", [
    ("BEGIN STATEMENT SET; INSERT INTO a SELECT 1;", "has no END"),
    ("END;", "END without BEGIN"),
    ("BEGIN STATEMENT SET; CREATE TABLE x (a INT); END;", "only INSERT statements"),
    ("BEGIN STATEMENT SET; BEGIN STATEMENT SET; END;", "inside a statement set"),
    ("SET 'a' 'b';", "SET must look like"),
    ("SET a = b;", "SET must look like"),
    ("-- nothing\n;;", "no SQL statement"),
])
def test_bad_files(sql, message):
    with pytest.raises(sr.SqlFileError, match=message):
        sr.parse_sql(sql)


def test_runtime_mode():
    assert sr.runtime_mode(sr.parse_sql("SELECT 1")) == "streaming"
    assert sr.runtime_mode(sr.parse_sql("SET 'execution.runtime-mode' = 'BATCH'; SELECT 1")) == "batch"
    assert sr.runtime_mode(sr.parse_sql("SET 'execution.runtime-mode' = 'streaming'")) == "streaming"
    with pytest.raises(sr.SqlFileError, match="both"):
        sr.runtime_mode(sr.parse_sql("SET 'execution.runtime-mode' = 'batch'; SET 'execution.runtime-mode' = 'streaming'"))
    with pytest.raises(sr.SqlFileError, match="'streaming' or 'batch'"):
        sr.runtime_mode(sr.parse_sql("SET 'execution.runtime-mode' = 'automatic'"))


# --- parameters ---------------------------------------------------------------------------------

def test_substitute():
    text, used = sr.substitute("a=${a} b=${b.c-d} pw='${env:PW}' lit=$${a} again=${a}",
                               {"a": "1", "b.c-d": "x;y", "z": "unused"}, environ={"PW": "s3;cret"})
    assert text == "a=1 b=x;y pw='s3;cret' lit=${a} again=1"
    assert used == {"a", "b.c-d"}


def test_substitute_missing_values_are_all_named():
    with pytest.raises(sr.SqlFileError) as e:
        sr.substitute("x ${a}\ny ${env:NOPE_NOT_SET_1234}\nz ${bad key}", {}, environ={})
    assert str(e.value) == ("no value for --param a (line 1), environment variable NOPE_NOT_SET_1234 "
                            "(line 2), bad placeholder ${bad key} (line 3)")


def test_parse_params():
    assert sr.parse_params(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    for bad in ("novalue", "=1", "a b=1"):
        with pytest.raises(sr.SqlFileError, match="KEY=VALUE"):
            sr.parse_params([bad])


# --- the command line without PyFlink (--dry-run, errors) ----------------------------------------

def runner(*args):
    return subprocess.run([sys.executable, RUNNER] + list(args), capture_output=True, text=True, timeout=60)


def test_dry_run_of_the_fixture():
    p = runner("--sql", os.path.join(SQL_DIR, "user_totals.sql"), "--param", "input=/in.csv",
               "--param", "out=/out", "--param", "extra=1", "--dry-run")
    assert p.returncode == 0, p.stderr
    rows = [json.loads(line) for line in p.stdout.splitlines()]
    assert [(r["kind"], r["line"]) for r in rows] == [
        ("set", 3), ("set", 4), ("other", 6), ("other", 18), ("other", 21), ("insert", 24), ("insert", 27)]
    assert "'path' = '/in.csv'" in rows[2]["sql"] and "'path' = '/out/user_totals'" in rows[3]["sql"]
    assert rows[6]["sql"].endswith("WHERE note LIKE '%;%' OR note LIKE '%''%'")
    assert "warning: --param extra not used" in p.stderr


@pytest.mark.parametrize("args,message", [
    (["--sql", "/nonexistent/x.sql"], "cannot read"),
    (["--sql", os.path.join(SQL_DIR, "user_totals.sql")], "no value for --param input (line 13), --param out (line 19), --param out (line 22)"),
    (["--sql", os.path.join(SQL_DIR, "print_stream.sql"), "--param", "oops"], "KEY=VALUE"),
])
def test_cli_errors_exit_2(args, message):
    p = runner(*(args + ["--dry-run"]))
    assert p.returncode == 2
    assert message in p.stderr and p.stderr.startswith("error: ")


def test_bad_sql_file_exits_2(tmp_path):
    path = tmp_path / "bad.sql"
    path.write_text("CREATE TABLE t (a STRING) WITH ('connector' = 'print');\nINSERT INTO t SELECT 'oops;\n")
    p = runner("--sql", str(path))            # fails before PyFlink is imported
    assert p.returncode == 2
    assert p.stderr.strip() == "error: unterminated string (') starting at line 2"


# --- real runs with PyFlink ----------------------------------------------------------------------



@pytest.fixture(scope="session")
def sql_runs():
    python = jobrun.pyflink_python()
    if python is None:
        pytest.fail("no PyFlink: set PYFLINK_PYTHON to a Python with apache-flink==2.2.1 "
                    "(.ci/stream-job-e2e installs one)")
    tmp = tempfile.mkdtemp(prefix="sql-runner-")
    out = os.path.join(tmp, "out")
    runs = {
        "batch": ["--sql", os.path.join(SQL_DIR, "user_totals.sql"),
                  "--param", "input=" + os.path.join(SQL_DIR, "orders.csv"), "--param", "out=" + out],
        "stream": ["--sql", os.path.join(SQL_DIR, "print_stream.sql"), "--param", "tag=ticks"],
    }
    procs = {}
    started = time.time()
    for name, args in runs.items():
        java_tmp = os.path.join(tmp, "java-tmp-" + name)
        os.makedirs(java_tmp)
        env = dict(os.environ, JVM_ARGS=(os.environ.get("JVM_ARGS", "") + " -Djava.io.tmpdir=" + java_tmp).strip())
        procs[name] = subprocess.Popen([python, RUNNER] + args, cwd=tmp, env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
    results = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=600)
        results[name] = {"rc": proc.returncode, "stdout": stdout, "stderr": stderr}
        if proc.returncode != 0:
            pytest.fail("sql_runner (%s) exited %s:\n%s" % (name, proc.returncode, stderr[-6000:]))
    print("\nthe two sql_runner runs took %.1fs together" % (time.time() - started))
    yield dict(results, out=out)
    shutil.rmtree(tmp, ignore_errors=True)


def sink_rows(folder):
    """Rows of a filesystem sink folder (committed part files; hidden in-progress files skipped)."""
    rows = []
    for name in sorted(os.listdir(folder)):
        if not name.startswith((".", "_")):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                rows += [json.loads(line) for line in f if line.strip()]
    return rows


def test_batch_file_two_inserts_one_job(sql_runs):
    # orders.csv: o1 u1 10.5, o2 u2 3.25, o3 u1 4.0, o4 u3 7.75, o5 u2 1.0, o6 u1 2.5
    #   u1: 3 orders, 10.5 + 4.0 + 2.5 = 17.0;  u2: 2 orders, 3.25 + 1.0 = 4.25;  u3: 1 order, 7.75
    totals = sorted(sink_rows(os.path.join(sql_runs["out"], "user_totals")), key=lambda r: r["user_id"])
    assert totals == [{"user_id": "u1", "orders": 3, "total": 17.0},
                      {"user_id": "u2", "orders": 2, "total": 4.25},
                      {"user_id": "u3", "orders": 1, "total": 7.75}]
    # notes holding ';' (o2, o4: quoted CSV fields) or a quote (o6); the literal 'semi;colon' intact
    flagged = sorted(sink_rows(os.path.join(sql_runs["out"], "flagged")), key=lambda r: r["order_id"])
    assert flagged == [{"order_id": "o2", "note": "gift; wrapped", "tag": "semi;colon"},
                       {"order_id": "o4", "note": "call first; then ring", "tag": "semi;colon"},
                       {"order_id": "o6", "note": "it's fragile", "tag": "semi;colon"}]
    log = sql_runs["batch"]["stderr"]
    assert "sql_runner: 7 statement(s), batch mode" in log
    assert log.count("sql_runner: submitted one job (2 INSERT)") == 1
    assert "sql_runner: job finished" in log


def test_streaming_default_with_statement_set_block(sql_runs):
    # datagen sequence 1..3 -> print sink rows "ticks:<subtask>> +I[n, tick;n]"
    printed = sorted(line.split("> ", 1)[1] for line in sql_runs["stream"]["stdout"].splitlines()
                     if line.startswith("ticks"))
    assert printed == ["+I[1, tick;1]", "+I[2, tick;2]", "+I[3, tick;3]"]
    log = sql_runs["stream"]["stderr"]
    assert "sql_runner: 4 statement(s), streaming mode" in log
    assert "sql_runner: submitted one job (1 INSERT)" in log and "sql_runner: job finished" in log
