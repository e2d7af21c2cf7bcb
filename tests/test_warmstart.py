"""Warm start (biasamp.warmstart): a job script handed to the server runs in a forked child
with the job's arguments, working directory, environment and streams, and ends as it would
have in its own process: same output, exit status and traceback; a cancelled job's child dies
with it; a server that cannot start costs one attempt and the job runs in its own process."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from biasamp import warmstart

JOB = '''
import os, sys
from biasamp.warmstart import handoff
handoff(int(os.environ.get("GPUS", "0")))
from biasamp import warmstart
print("warm" if warmstart.IN_CHILD else "cold", os.getcwd(), os.environ.get("JOB_VALUE"),
      sys.argv[1:], "torch" in sys.modules, sep="|")
sys.stdout.flush()
if sys.argv[1] == "fail":
    raise ValueError("a planted failure")
if sys.argv[1] == "exit":
    sys.exit(3)
if sys.argv[1] == "message":
    sys.exit("a planted message")
if sys.argv[1] == "thread":  # a pool never shut down: the interpreter waits for it at exit
    from concurrent.futures import ThreadPoolExecutor
    ThreadPoolExecutor(1).submit(lambda: print("from the pool"))
if sys.argv[1] == "wait":
    open("started", "w").write(str(os.getpid()))
    import time
    time.sleep(120)
'''


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    """A folder for this module's server (one server serves all its tests); the server is
    stopped at the end."""
    folder = tmp_path_factory.mktemp("runtime")
    yield folder
    for log in folder.rglob("*.log"):
        for line in log.read_text().splitlines():
            if line.startswith("pid "):
                try:
                    os.kill(int(line.split()[1].rstrip(":")), signal.SIGTERM)
                except ProcessLookupError:
                    pass


def job_environment(runtime) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if k != "BIASAMP_WARM_START"}
    return {**environ, "XDG_RUNTIME_DIR": str(runtime)}


def run_job(tmp_path, runtime, *args, **env):
    script = tmp_path / "job.py"
    script.write_text(JOB)
    environ = job_environment(runtime)
    environ.update(JOB_VALUE="from the job", **env)
    return subprocess.run([sys.executable, str(script), *args], cwd=tmp_path, env=environ,
                          capture_output=True, text=True, timeout=300)


def fields(result):
    return next(line for line in result.stdout.splitlines() if "|" in line).split("|")


def test_a_job_runs_in_a_warm_child_as_it_would_in_its_own_process(tmp_path, runtime):
    warm = run_job(tmp_path, runtime, "ok", "--flag")
    assert warm.returncode == 0, warm.stderr
    # the child had torch before the job imported anything heavy: it was forked from the server
    assert fields(warm) == ["warm", str(tmp_path), "from the job", "['ok', '--flag']", "True"]
    cold = run_job(tmp_path, runtime, "ok", "--flag", BIASAMP_WARM_START="0")
    assert cold.returncode == 0, cold.stderr
    assert fields(cold) == ["cold", str(tmp_path), "from the job", "['ok', '--flag']", "False"]
    gpu = run_job(tmp_path, runtime, "ok", GPUS="1")  # GPU jobs never start warm
    assert fields(gpu)[0] == "cold"


def test_a_failing_job_fails_the_same_way(tmp_path, runtime):
    failed = run_job(tmp_path, runtime, "fail")
    assert failed.returncode == 1
    assert fields(failed)[0] == "warm"
    assert "Traceback" in failed.stderr and "ValueError: a planted failure" in failed.stderr
    exited = run_job(tmp_path, runtime, "exit")
    assert exited.returncode == 3 and fields(exited)[0] == "warm"
    message = run_job(tmp_path, runtime, "message")
    assert message.returncode == 1 and "a planted message" in message.stderr
    pooled = run_job(tmp_path, runtime, "thread")
    assert pooled.returncode == 0 and "from the pool" in pooled.stdout


def start_waiting_job(tmp_path, runtime):
    """A job that runs until killed, and the pid of the process doing its work."""
    script = tmp_path / "job.py"
    script.write_text(JOB)
    job = subprocess.Popen([sys.executable, str(script), "wait"], cwd=tmp_path,
                           env=job_environment(runtime), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    started = tmp_path / "started"
    deadline = time.monotonic() + 120
    while not (started.exists() and started.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    child = int(started.read_text())
    assert child != job.pid  # the work runs in the server's child, not in the job process
    return job, child


def gone(pid: int) -> bool:
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return not Path(f"/proc/{pid}").exists()


def test_a_cancelled_job_takes_its_child_with_it(tmp_path, runtime):
    job, child = start_waiting_job(tmp_path, runtime)
    job.kill()  # as Snakemake cancels a job
    job.wait()
    assert gone(child)


def test_a_server_that_cannot_start_costs_one_attempt(tmp_path, runtime):
    broken = tmp_path / "broken"
    (broken / "sklearn").mkdir(parents=True)
    (broken / "sklearn" / "__init__.py").write_text("raise ImportError('a broken install')\n")
    path = f"{broken}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"
    first = run_job(tmp_path, runtime, "ok", PYTHONPATH=path)
    assert first.returncode == 0 and fields(first)[0] == "cold"
    assert "a broken install" in first.stderr
    second = run_job(tmp_path, runtime, "ok", PYTHONPATH=path)
    assert fields(second)[0] == "cold" and "failed here before" in second.stderr


def test_a_server_serves_only_its_code_and_environment(tmp_path, monkeypatch):
    environ = {"OMP_NUM_THREADS": "1", "PWD": "/somewhere"}
    key = warmstart.server_key(environ)
    assert warmstart.server_key({**environ, "PWD": "/elsewhere"}) == key
    assert warmstart.server_key({**environ, "OMP_NUM_THREADS": "2"}) != key
    package = tmp_path / "biasamp"
    package.mkdir()
    (package / "module.py").write_text("VALUE = 1\n")
    monkeypatch.setattr(warmstart, "PACKAGE", package)
    before = warmstart.server_key(environ)
    (package / "module.py").write_text("VALUE = 2\n")
    assert warmstart.server_key(environ) != before


def test_a_killed_server_fails_its_jobs_and_takes_their_children(tmp_path, runtime):
    job, child = start_waiting_job(tmp_path, runtime)
    servers = [int(line.split()[1].rstrip(":")) for log in runtime.rglob("*.log")
               for line in log.read_text().splitlines() if line.startswith("pid ")]
    parent = int(Path(f"/proc/{child}/stat").read_text().split(")")[1].split()[1])
    assert parent in servers
    os.kill(parent, signal.SIGKILL)
    assert job.wait(timeout=60) == 1  # Snakemake sees the job fail
    assert gone(child)
