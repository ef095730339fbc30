"""Helpers shared by the stream-job tests: which Python has PyFlink, and running several local
job runs side by side (one PyFlink mini cluster each) and failing with their logs."""

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
