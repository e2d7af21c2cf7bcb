"""Give each GPU job its own devices on one machine.

Snakemake's ``gpu`` resource only caps how many GPU jobs run at once; it does not say which
device a job should use, so concurrent jobs would all land on GPU 0. Before touching CUDA, a
GPU job calls :func:`claim`: it takes N free devices, one lock file per device held with
``flock`` (the kernel releases it when the process ends, even on SIGKILL), and sets
``CUDA_VISIBLE_DEVICES`` to them. The device ids are decided at run time, never in a rule's
params, so they do not trigger reruns.

Under SLURM the job's allocation already isolates devices (SLURM sets CUDA_VISIBLE_DEVICES), so
nothing is locked. ``BIASAMP_GPU_COUNT`` overrides the number of devices on the machine (tests
fake it); ``BIASAMP_GPU_LOCK_DIR`` moves the lock files (default: the temp directory, per user).
"""

from __future__ import annotations

import fcntl
import logging
import os
import subprocess
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

_held: list = []  # open lock files: a device stays ours as long as this process lives


def device_ids() -> list[str]:
    """The machine's GPUs: BIASAMP_GPU_COUNT, else CUDA_VISIBLE_DEVICES, else nvidia-smi."""
    if os.environ.get("BIASAMP_GPU_COUNT"):
        return [str(i) for i in range(int(os.environ["BIASAMP_GPU_COUNT"]))]
    if os.environ.get("CUDA_VISIBLE_DEVICES") is not None:
        return [d for d in os.environ["CUDA_VISIBLE_DEVICES"].split(",") if d.strip()]
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def lock_dir() -> Path:
    default = Path(tempfile.gettempdir()) / f"biasamp-gpu-locks-{os.getuid()}"
    folder = Path(os.environ.get("BIASAMP_GPU_LOCK_DIR", default))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _try_lock(device: str):
    handle = open(lock_dir() / f"gpu{device}.lock", "a+")  # noqa: SIM115  (held until exit)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def claim(n: int, timeout: float = 24 * 3600, poll: float = 1.0) -> list[str]:
    """Take ``n`` free GPUs for this process and make them its only visible devices.

    Returns the device ids; [] (CPU) when ``n`` is 0 or the machine has no GPU. Waits while
    other processes hold the devices (up to ``timeout`` seconds).
    """
    n = int(n)
    if n <= 0:
        log.info("no GPU requested: running on the CPU")
        return []
    if os.environ.get("SLURM_JOB_ID") and os.environ.get("CUDA_VISIBLE_DEVICES"):
        log.info("SLURM job: using its allocated GPUs %s", os.environ["CUDA_VISIBLE_DEVICES"])
        return os.environ["CUDA_VISIBLE_DEVICES"].split(",")
    devices = device_ids()
    if not devices:
        log.warning("%d GPU(s) requested but none found: running on the CPU", n)
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
        return []
    if n > len(devices):
        raise RuntimeError(f"{n} GPUs requested but this machine has {len(devices)}; lower the "
                           f"`gpus` setting of this generator or model")
    deadline = time.monotonic() + timeout
    while True:
        taken = []
        for device in devices:
            handle = _try_lock(device)
            if handle is not None:
                taken.append((device, handle))
                if len(taken) == n:
                    break
        if len(taken) == n:
            _held.extend(handle for _, handle in taken)
            ids = [device for device, _ in taken]
            os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(ids)
            log.info("using GPU(s) %s (CUDA_VISIBLE_DEVICES)", ",".join(ids))
            return ids
        for _, handle in taken:  # all or nothing: never sit on part of a request
            handle.close()
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {n} free GPUs among {devices} after {timeout:.0f} s")
        time.sleep(poll)
