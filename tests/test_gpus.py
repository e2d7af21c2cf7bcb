"""GPU slots on one machine: distinct devices for concurrent jobs, released even on SIGKILL.

The device count is faked with BIASAMP_GPU_COUNT, which the allocator honours; the locks are the
real ones (flock on one file per device).
"""

import os
import signal
import subprocess
import sys
import time

import pytest

from biasamp import gpus

HOLDER = """
import os, sys, time
from biasamp.gpus import claim
ids = claim(int(sys.argv[1]), timeout=float(sys.argv[2]), poll=0.05)
print(os.environ["CUDA_VISIBLE_DEVICES"], flush=True)
time.sleep(float(sys.argv[3]))
"""


@pytest.fixture
def machine(tmp_path, monkeypatch):
    env = {**os.environ, "BIASAMP_GPU_COUNT": "4", "BIASAMP_GPU_LOCK_DIR": str(tmp_path)}
    env.pop("SLURM_JOB_ID", None)
    for key in ("BIASAMP_GPU_COUNT", "BIASAMP_GPU_LOCK_DIR"):
        monkeypatch.setenv(key, env[key])
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)  # claim() sets it: restore
    return env


def hold(env, n, seconds, timeout=30.0):
    return subprocess.Popen([sys.executable, "-c", HOLDER, str(n), str(timeout), str(seconds)],
                            env=env, stdout=subprocess.PIPE, text=True, start_new_session=True)


def devices_of(process):
    line = process.stdout.readline().strip()
    return set(line.split(",")) if line else set()


def test_concurrent_jobs_get_distinct_devices(machine):
    jobs = [hold(machine, n, 3) for n in (1, 2, 1)]
    taken = [devices_of(job) for job in jobs]
    assert [len(t) for t in taken] == [1, 2, 1]
    assert set.union(*taken) == {"0", "1", "2", "3"}  # 4 devices, no sharing
    for job in jobs:
        job.wait()


def test_a_waiting_job_gets_the_device_a_killed_job_held(machine):
    first = hold(machine, 4, 60)
    assert devices_of(first) == {"0", "1", "2", "3"}
    waiting = hold(machine, 1, 0, timeout=60)
    time.sleep(0.5)
    assert waiting.poll() is None  # all devices taken: it waits
    os.killpg(first.pid, signal.SIGKILL)  # no cleanup runs: the kernel drops the locks
    first.wait()
    assert len(devices_of(waiting)) == 1
    waiting.wait()


def test_cpu_when_no_gpu_is_requested_or_present(machine, monkeypatch, caplog):
    caplog.set_level("INFO")
    assert gpus.claim(0) == []
    assert "running on the CPU" in caplog.text
    monkeypatch.setenv("BIASAMP_GPU_COUNT", "0")
    assert gpus.claim(1) == [] and os.environ["CUDA_VISIBLE_DEVICES"] == ""


def test_asking_for_more_gpus_than_the_machine_has_is_an_error(machine):
    with pytest.raises(RuntimeError, match="5 GPUs requested but this machine has 4"):
        gpus.claim(5)


def test_slurm_allocations_are_used_as_given(machine, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")
    assert gpus.claim(1) == ["3"]
