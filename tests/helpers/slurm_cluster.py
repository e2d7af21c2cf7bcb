"""A one-node Slurm cluster on this machine, for the tests that submit through the SLURM profile.

Debian's ``slurm-wlm`` and ``munge`` are installed with apt when absent (as root). The cluster
runs from a private folder: its own munged (key, socket), slurm.conf with free ports, no
accounting database, and slurmctld + slurmd in the foreground; ``stop`` ends exactly the
processes it started, by process id. Clients find it through ``SLURM_CONF`` (``env``); job
steps, whose environment snakemake's jobstep plugin strips of ``SLURM_CONF``, through a copy at
the default location ``/etc/slurm/slurm.conf``, written only where none exists and removed
by ``stop``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "sinfo", "scancel", "srun")


class Unavailable(RuntimeError):
    """Slurm cannot run here (not root, no apt, an install that failed)."""


def binary(name: str) -> str | None:
    return shutil.which(name, path=SEARCH_PATH)


def ensure_installed() -> None:
    if all(binary(name) for name in DAEMONS + CLIENTS):
        return
    if os.geteuid() != 0:
        raise Unavailable("Slurm is not installed and installing it (apt) needs root")
    if not binary("apt-get"):
        raise Unavailable("Slurm is not installed and there is no apt-get to install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "slurm-wlm", "munge"]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=True)
        result = subprocess.run(install, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise Unavailable(f"apt-get install slurm-wlm munge failed:\n{result.stderr}")
    missing = [name for name in DAEMONS + CLIENTS if not binary(name)]
    if missing:
        raise Unavailable(f"after installing slurm-wlm and munge, still missing: {missing}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    def __init__(self, root: Path):
        self.root = root
        self.conf = root / "slurm.conf"
        self.socket = root / "munge.socket"
        self.processes: list[subprocess.Popen] = []
        self.wrote_system_conf = False
        self.env = {**os.environ, "SLURM_CONF": str(self.conf),
                    "PATH": SEARCH_PATH}

    def start(self, timeout: float = 90) -> Cluster:
        ensure_installed()
        if os.geteuid() != 0:
            raise Unavailable("the test cluster runs its daemons as root")
        key = self.root / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        self._spawn("munged", "-F", "--force", f"--socket={self.socket}", f"--key-file={key}",
                    f"--pid-file={self.root / 'munged.pid'}",
                    f"--log-file={self.root / 'munged.log'}",
                    f"--seed-file={self.root / 'munged.seed'}")
        self._wait(lambda: self.socket.exists(), timeout, "munged")
        self.conf.write_text(self._slurm_conf())
        if SYSTEM_CONF.exists():
            self.stop()
            raise Unavailable(f"{SYSTEM_CONF} exists: this machine has a Slurm of its own, which "
                              "the test cluster will not replace")
        SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.conf, SYSTEM_CONF)
        self.wrote_system_conf = True
        for folder in ("state", "spool"):
            (self.root / folder).mkdir(exist_ok=True)
        self._spawn("slurmctld", "-D", "-f", str(self.conf))
        self._spawn("slurmd", "-D", "-f", str(self.conf))
        self._wait(self._idle, timeout, "an idle node")
        return self

    def _slurm_conf(self) -> str:
        # the node line as slurmd detects this machine (CPUs, sockets, cores, memory)
        detected = subprocess.run([binary("slurmd"), "-C"], capture_output=True, text=True,
                                  check=True).stdout.splitlines()[0]
        node = detected.split()[0].split("=", 1)[1]
        r = self.root
        return f"""ClusterName=biasamptest
SlurmctldHost={node}
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.socket}
SlurmUser=root
SlurmdUser=root
StateSaveLocation={r / 'state'}
SlurmdSpoolDir={r / 'spool'}
SlurmctldPidFile={r / 'slurmctld.pid'}
SlurmdPidFile={r / 'slurmd.pid'}
SlurmctldLogFile={r / 'slurmctld.log'}
SlurmdLogFile={r / 'slurmd.log'}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
MinJobAge=600
{detected} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""

    def _spawn(self, name: str, *args: str) -> None:
        log = open(self.root / f"{name}.out", "wb")  # noqa: SIM115  (lives with the process)
        self.processes.append(subprocess.Popen([binary(name), *args], env=self.env,
                                               stdout=log, stderr=subprocess.STDOUT))

    def _idle(self) -> bool:
        for process in self.processes:
            if process.poll() is not None:
                raise Unavailable(f"{process.args[0]} exited with {process.returncode}; "
                                  f"see {self.root}:\n{self.logs()}")
        state = subprocess.run([binary("sinfo"), "-h", "-o", "%T"], env=self.env,
                               capture_output=True, text=True).stdout.split()
        return "idle" in state

    def _wait(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline:
                self.stop()
                raise Unavailable(f"no {what} after {timeout:g} s:\n{self.logs()}")
            time.sleep(0.5)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}"
                         for p in sorted(self.root.glob("*.log")) + sorted(self.root.glob("*.out")))

    def stop(self) -> None:
        if binary("scancel") and self.conf.exists():
            subprocess.run([binary("scancel"), "--user", "root"], env=self.env,
                           capture_output=True)
        for process in reversed(self.processes):  # slurmd, slurmctld, then munged
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if self.wrote_system_conf:
            SYSTEM_CONF.unlink(missing_ok=True)
            self.wrote_system_conf = False
