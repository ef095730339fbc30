"""Helpers shared by the stream-job tests: which Python has PyFlink, running several local job
runs side by side (one PyFlink mini cluster each) and failing with their logs, and running the
job the way the cluster does (PythonDriver, Flink configuration from a file, the backfill's
generated flinkConfiguration and tasks.json)."""

import os
import subprocess
import sys

import pytest


def pyflink_python():
    """The interpreter to run the job with: $PYFLINK_PYTHON, else this one if it has PyFlink."""
    explicit = os.environ.get("PYFLINK_PYTHON")
    if explicit:
        return explicit
    try:
        import pyflink  # noqa: F401
        return sys.executable
    except ImportError:
        return None


def start(argv, cwd, env, log_path):
    """Starts one run with its output going to log_path; returns (process, open log)."""
    log = open(log_path, "w")
    return subprocess.Popen(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT), log


def wait_all(procs, log_path):
    """Waits for every run ({name: (process, log)}); fails the test with the tail of each failed
    run's log (log_path(name) names it)."""
    failed = []
    for name, (proc, log) in procs.items():
        try:
            rc = proc.wait(timeout=600)
        finally:
            log.close()
        if rc != 0:
            with open(log_path(name)) as f:
                failed.append("run %s exited %s:\n%s" % (name, rc, f.read()[-6000:]))
    if failed:
        pytest.fail("\n".join(failed))


# --- running the job the way the cluster does: Flink's PythonDriver, configuration from a file ---
#
# In the cluster the operator writes the FlinkDeployment's flinkConfiguration into the Flink
# configuration file, and PythonDriver runs main.py inside an execution environment built from it
# (that is how `execution.runtime-mode: BATCH` reaches a bounded job, SPEC §13.4). `python main.py`
# cannot show that: PyFlink's local gateway (pyflink_gateway_server.py) reads $FLINK_CONF_DIR only
# for JVM options and log settings, and its environment starts from an empty configuration. So
# these runs use `flink run -t local` from PyFlink's own distribution: the Flink client loads
# $FLINK_CONF_DIR/config.yaml, starts main.py through PythonDriver (-py/-pyfs, as the FlinkDeployment
# does) and runs the job on a local mini cluster.

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BACKFILL = "user-features-backfill-2024-10"


def generated(path):
    """A file of the repository's generated out/ (fails the test if it is missing)."""
    full = os.path.join(REPO, path)
    if not os.path.isfile(full):
        pytest.fail("%s is missing: run `cargo run -- generate` at the repository root" % path)
    with open(full, encoding="utf-8") as f:
        return f.read()


def yaml_block(text, key, indent):
    """The lines of the block under `<indent spaces>key:` (or `key: |`), dedented; a tiny reader
    for flinkops' own generated YAML, so that the tests need no YAML library."""
    lines = text.split("\n")
    heads = [i for i, line in enumerate(lines) if line.rstrip() in (" " * indent + key + ":", " " * indent + key + ": |")]
    assert len(heads) == 1, "expected one %r at indent %d" % (key, indent)
    block = []
    for line in lines[heads[0] + 1:]:
        if line.strip() and len(line) - len(line.lstrip(" ")) <= indent:
            break
        block.append(line[indent + 2:])
    return block


def backfill_flink_configuration(env="prod"):
    """spec.flinkConfiguration of the worked example's backfill FlinkDeployment (out/<env>/...):
    {key: value}."""
    text = generated("out/%s/%s/flinkdeployment-%s.yaml" % (env, BACKFILL, BACKFILL))
    conf = {}
    for line in yaml_block(text, "flinkConfiguration", 2):
        key, sep, value = line.partition(": ")
        assert sep and not key.startswith(" "), line
        conf[key] = value.strip().strip('"')
    return conf


def backfill_flink_settings(mode, env="prod"):
    """The backfill FlinkDeployment's flinkConfiguration with execution.runtime-mode = mode, for
    flink_conf_dir: without the keys about the cluster's machines (taskmanager.*) and interpreter
    (python.*: flink_conf_dir sets the local one). Fails unless flinkops emitted BATCH and no
    checkpoint interval for the bounded backfill (SPEC §13.4)."""
    conf = backfill_flink_configuration(env)
    assert conf.get("execution.runtime-mode") == "BATCH", conf
    assert "execution.checkpointing.interval" not in conf, conf
    conf = {k: v for k, v in conf.items() if not k.startswith(("taskmanager.", "python."))}
    conf["execution.runtime-mode"] = mode
    return conf


def backfill_tasks_json(env="prod"):
    """tasks.json of the backfill's tasks ConfigMap (out/<env>/...), parsed."""
    import json
    text = generated("out/%s/%s/configmap-%s-tasks.yaml" % (env, BACKFILL, BACKFILL))
    return json.loads("\n".join(yaml_block(text, "tasks.json", 2)))


def pyflink_home(python):
    """The pyflink package folder of that interpreter (a Flink distribution: bin/, conf/, lib/)."""
    out = subprocess.run([python, "-c", "import os, pyflink; print(os.path.dirname(os.path.abspath(pyflink.__file__)))"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def flink_conf_dir(path, python, settings):
    """Makes path a FLINK_CONF_DIR: PyFlink's conf/ (its config.yaml holds the JVM options Java 17
    needs) plus `settings` (Flink configuration keys, as a FlinkDeployment's flinkConfiguration)
    and python.executable / python.client.executable = python (flinkops sets both to the image's
    interpreter, SPEC §13.6). A key whose top-level section the base file already has is refused
    (the file would hold it twice)."""
    import json
    import shutil
    shutil.copytree(os.path.join(pyflink_home(python), "conf"), path)
    settings = dict(settings, **{"python.executable": python, "python.client.executable": python})
    config = os.path.join(path, "config.yaml")
    with open(config, encoding="utf-8") as f:
        sections = {line.split(":")[0] for line in f if line[:1].isalpha()}
    with open(config, "a", encoding="utf-8") as f:
        f.write("\n# added by tests/stream_job/jobrun.py\n")
        for key, value in sorted(settings.items()):
            assert key.split(".")[0] not in sections, "%s: PyFlink's config.yaml already has a %s section" % (key, key.split(".")[0])
            f.write("%s: %s\n" % (key, json.dumps(str(value))))
    # The client's log (flink_log): PyFlink's log4j-cli.properties truncates the file whenever
    # log4j (re)opens it (append = false, and it watches its configuration every 30 s); a run
    # under load once kept only its last lines. Appending keeps the whole log.
    with open(os.path.join(path, "log4j-cli.properties"), "w", encoding="utf-8") as f:
        f.write("rootLogger.level = INFO\n"
                "rootLogger.appenderRef.file.ref = FileAppender\n"
                "appender.file.name = FileAppender\n"
                "appender.file.type = FILE\n"
                "appender.file.append = true\n"
                "appender.file.fileName = ${sys:log.file}\n"
                "appender.file.layout.type = PatternLayout\n"
                "appender.file.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n\n")
    return path


def flink_run(python, main, job_args, conf_dir, work_dir, log_path):
    """Starts `flink run -t local -py main -pyfs <main's folder> job_args` with FLINK_CONF_DIR =
    conf_dir; Flink's own log files go to work_dir/flink-log, the JVM's scratch files to
    work_dir/java-tmp. Returns what start() returns."""
    log_dir, java_tmp = os.path.join(work_dir, "flink-log"), os.path.join(work_dir, "java-tmp")
    os.makedirs(log_dir)
    os.makedirs(java_tmp)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLINKOPS_SECRET_", "PYFLINK_GATEWAY_"))}
    env.update(FLINK_CONF_DIR=conf_dir, FLINK_LOG_DIR=log_dir,
               JVM_ARGS=(env.get("JVM_ARGS", "") + " -Djava.io.tmpdir=" + java_tmp).strip())
    argv = [os.path.join(pyflink_home(python), "bin", "flink"), "run", "-t", "local",
            "-py", main, "-pyfs", os.path.dirname(main)] + list(job_args)
    return start(argv, work_dir, env, log_path)


def flink_log(work_dir):
    """The text of every Flink log file of a flink_run (the client's log holds the mini cluster's)."""
    log_dir = os.path.join(work_dir, "flink-log")
    text = []
    for name in sorted(os.listdir(log_dir)):
        if name.endswith(".log"):
            with open(os.path.join(log_dir, name), encoding="utf-8", errors="replace") as f:
                text.append(f.read())
    return "\n".join(text)
