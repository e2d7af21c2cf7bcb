"""Warm start: model jobs forked from a process that has already imported their libraries.

A train, caption or evaluate job spends its first seconds importing torch, torchvision (which
imports ``torch._dynamo`` and sympy), open_clip, pandas and scikit-learn: 4-5.5 s of one core
on a 2-core machine (``benchmarks/startup.py``), paid by each of the default study's 75 model
jobs against 2-23 s of work. A job's script calls :func:`handoff` first thing. Where a warm
start applies (below), the job connects to a local server that imported those libraries once
and hands it its command line, working directory, environment and standard streams; the
server forks a child that runs the same job script from the top, in a process group of its
own, and reports how it ended, and the job exits with that status. The child is the job: its
log and outputs are those the job would have had in a fresh interpreter (the workflow tests
compare the bytes), and so is its exit status, except that a death by signal N is reported as
status 128 + N. If the job process dies (Snakemake cancelled it), the server kills the child's
process group; if the server dies, the kernel kills its children and their jobs fail. A job
that the server does not take (it is exiting, or refuses) runs in its own process.

A warm start applies on Linux to CPU jobs (``gpus == 0``: CUDA is never initialised in the
server, and GPU jobs are long) outside SLURM (a cluster job is one allocation; a server would
outlive it), unless ``BIASAMP_WARM_START=0``. Anything else, or a server that cannot start,
runs the job in its own process as before (a line on stderr says why, if a server failed).

Correctness: a server serves only jobs of its interpreter, package code (every source file's
content; it checks that it imports the job's), library installations and environment (the
thread counts Snakemake sets per job included; the working directory excluded):
:func:`server_key` names its socket. It forks only while no other Python thread runs (the
native pools the libraries start, OpenBLAS's and pyarrow's jemalloc thread, are prepared for
fork by their libraries; torch's starts with a first computation, which the server never
runs). Python reseeds ``random`` in a forked child; every job seeds its generators explicitly.
The child waits for the job's non-daemon threads and runs the exit handlers, as an interpreter
does when it ends, then exits without finalising other objects (a file left open and unflushed
by a job would lose its buffer; the project's outputs are written and closed by context
managers). It gets the job's umask and CPU affinity; its resource limits are the server's.

The server exits after :data:`IDLE_S` without jobs. Its socket, lock and log are
``<key>.sock``, ``.lock`` and ``.log`` in ``$XDG_RUNTIME_DIR`` or the temp directory, under
``biasamp-warm-<uid>/`` (a folder only its user may enter; the server serves only processes of
its user); a server that could not start leaves ``<key>.failed`` with the reason, and jobs of
that key then run in their own processes for :data:`RETRY_S` without trying again.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import importlib.util
import os
import pickle
import runpy
import selectors
import signal
import socket
import stat
import struct
import subprocess
import sys
import time
import traceback
from pathlib import Path

# What the server imports once: what train, caption and evaluate jobs share. The trainer
# (open_clip_train) stays out, so evaluate and caption jobs never hold it; a train job imports
# it in its child (0.4 s).
PRELOAD = ("numpy", "pandas", "pyarrow.parquet", "PIL.Image", "torch", "torchvision",
           "sklearn.linear_model", "sklearn.model_selection", "scipy.stats", "biasamp.evaluate",
           "biasamp.caption", "biasamp.models.clip", "biasamp.models.coca")
# the libraries whose installation a server's key records (the preloaded ones, the trainer a
# train job imports in its child): reinstalling one starts a new server
STAMPED = ("numpy", "pandas", "pyarrow", "PIL", "torch", "torchvision", "sklearn", "scipy",
           "open_clip", "open_clip_train")
IDLE_S = 30.0  # covers the gaps between a study's model jobs
# environment variables that differ between jobs without changing what a library loads
VOLATILE = ("PWD", "OLDPWD", "SHLVL", "_")
START_TIMEOUT_S = 300.0
RETRY_S = 3600.0  # after a server failed to start, its jobs run in their own processes so long
PACKAGE = Path(__file__).resolve().parent

# True in a child the server forked: its job script's handoff() then runs the job here
IN_CHILD = False


def enabled(gpus: int) -> bool:
    """Whether a job that uses ``gpus`` GPUs starts warm here (see the module's docstring)."""
    return (sys.platform == "linux" and not gpus and "SLURM_JOB_ID" not in os.environ
            and os.environ.get("BIASAMP_WARM_START", "1").lower() not in ("0", "false", "no",
                                                                          "off"))


def server_key(environ: dict[str, str] | None = None) -> str:
    """What a server must share with a job to serve it: interpreter, package code, library
    installations and environment, as a short hash."""
    environ = dict(os.environ if environ is None else environ)
    digest = hashlib.sha256()
    digest.update(f"{sys.executable}\0{sys.version}\0{PACKAGE}\0".encode())
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix in (".py", ".json", ".yaml", ".txt") and path.is_file():
            digest.update(f"{path.relative_to(PACKAGE)}\0".encode())
            digest.update(path.read_bytes())
    digest.update(f"{sys.flags}\0".encode())
    for name in sorted(STAMPED):
        spec = importlib.util.find_spec(name)  # locates a package without importing it
        origin = Path(spec.origin) if spec and spec.origin else None
        stamp = origin.stat().st_mtime_ns if origin and origin.exists() else None
        digest.update(f"{name}\0{origin}\0{stamp}\0".encode())
    for name in sorted(set(environ) - set(VOLATILE)):
        digest.update(f"{name}={environ[name]}\0".encode())
    return digest.hexdigest()[:20]


def folder() -> Path:
    base = os.environ.get("XDG_RUNTIME_DIR") or os.environ.get("TMPDIR") or "/tmp"
    path = Path(base) / f"biasamp-warm-{os.getuid()}"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    status = os.lstat(path)
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid() or (
            status.st_mode & 0o077):
        raise OSError(f"{path} is not a private folder of this user: remove it, or set "
                      "XDG_RUNTIME_DIR to one")
    return path


def handoff(gpus: int = 0) -> None:
    """Run the calling job script in a warm child and exit with its status; return at once
    where the job runs here instead (a warm child itself, or no warm start: see above)."""
    if IN_CHILD or not enabled(gpus) or not os.path.isfile(sys.argv[0]):
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    umask = os.umask(0)
    os.umask(umask)
    request = pickle.dumps({"argv": sys.argv, "cwd": os.getcwd(), "environ": dict(os.environ),
                            "umask": umask, "affinity": os.sched_getaffinity(0)})
    try:
        connection = connect(server_key())
        socket.send_fds(connection, [struct.pack("!I", len(request)) + request], [0, 1, 2])
    except Exception as error:  # noqa: BLE001  (nothing started: the job runs here)
        print(f"biasamp: no warm start ({type(error).__name__}: {error}); the job imports its "
              "libraries itself", file=sys.stderr)
        return
    replies = connection.makefile("rb")
    try:
        taken = replies.readline() == b"started\n"
    except OSError:  # the server closed its queue as it exited
        taken = False
    if not taken:  # nothing ran
        print("biasamp: no warm start (the server did not take the job); the job imports its "
              "libraries itself", file=sys.stderr)
        return
    try:
        reply = replies.readline()
    except OSError:
        reply = b""
    if not reply.startswith(b"exit "):
        print("biasamp: the warm-start server ended during the job (killed?), and the job's "
              "child with it", file=sys.stderr)
    os._exit(int(reply.split()[1]) if reply.startswith(b"exit ") else 1)


def connect(key: str) -> socket.socket:
    """A connection to the server for ``key``, started first if none is listening."""
    path = folder() / f"{key}.sock"
    failed = folder() / f"{key}.failed"
    with contextlib.suppress(OSError):
        return _connected(path)
    if failed.exists() and time.time() - failed.stat().st_mtime < RETRY_S:
        # a server for this key could not start: do not pay for it again for a while
        raise OSError(f"a warm-start server failed here before: {failed.read_text().strip()}")
    with open(folder() / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one job starts the server; the others wait for it
        try:
            return _connected(path)
        except (ConnectionRefusedError, FileNotFoundError):
            path.unlink(missing_ok=True)  # a server that ended without removing its socket
        day_ago = time.time() - 86400
        for old in folder().iterdir():  # files of servers for older code and environments
            if old.suffix in (".log", ".failed", ".lock") and old.stat().st_mtime < day_ago:
                old.unlink(missing_ok=True)
        log = folder() / f"{key}.log"
        with open(log, "ab") as out:
            # the job's directory and environment: relative PYTHONPATH entries resolve alike
            server = subprocess.Popen(
                [sys.executable, *subprocess._args_from_interpreter_flags(), "-c",
                 "from biasamp.warmstart import serve; serve()", str(path), key],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            with contextlib.suppress(OSError):
                return _connected(path)
            if server.poll() is not None:
                tail = log.read_text(errors="replace").strip().splitlines()[-1:]
                failed.write_text(f"{' '.join(tail) or 'no output'} (log: {log})\n")
                raise OSError(f"the warm-start server ended while starting: "
                              f"{failed.read_text().strip()}")
            if time.monotonic() > deadline:
                server.kill()
                raise OSError(f"the warm-start server did not start in {START_TIMEOUT_S:.0f} "
                              f"s (log: {log})")
            time.sleep(0.05)


def _connected(path: Path) -> socket.socket:
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(str(path))
    except OSError:
        connection.close()
        raise
    return connection


def os_threads() -> list[str]:
    """The names of this process's OS threads."""
    return [Path(f"/proc/self/task/{task}/comm").read_text().strip()
            for task in sorted(os.listdir("/proc/self/task"))]


def fork_problem() -> str | None:
    """Why this process must not fork a job now, if it must not: a Python thread other than
    this one (it may hold a lock the child would wait on forever). Native pools that the
    preloaded libraries start (OpenBLAS's, pyarrow's jemalloc thread) are prepared for
    fork by their libraries, and torch's OpenMP pool starts only with a computation, which
    the server never runs."""
    import threading

    if threading.active_count() > 1:
        return f"Python threads running: {', '.join(t.name for t in threading.enumerate())}"
    return None


def serve() -> None:
    """The server (``sys.argv``: its socket, its key): import :data:`PRELOAD`, listen, fork a
    child per job, report each child's end to its job, and exit after :data:`IDLE_S` without
    jobs."""
    path, key = Path(sys.argv[1]), sys.argv[2]
    if server_key() != key:  # it would import other code than the job that started it
        sys.exit(f"not serving: this process imports biasamp from {PACKAGE}, whose code or "
                 "environment differs from the job's")
    os.chdir("/")  # holds no job's directory
    started = time.monotonic()
    from biasamp.openclip import import_open_clip

    import_open_clip(None)  # without transformers and timm, which no toy or paper arch needs
    for module in PRELOAD:
        __import__(module)
    if problem := fork_problem():
        sys.exit(f"not serving: {problem}")
    print(f"pid {os.getpid()}: imported in {time.monotonic() - started:.1f} s; OS threads: "
          f"{', '.join(os_threads())}", flush=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(64)
    ours = os.stat(path).st_ino
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    children: dict[int, socket.socket] = {}
    idle_since = time.monotonic()
    listening = True
    try:
        while listening or children:
            if listening and not children and time.monotonic() - idle_since >= IDLE_S:
                # from here on a job that connects starts a new server; those that connected
                # before are in the listener's queue and are served below
                _unlink_own(path, ours)
                listening = False
            ready = selector.select(timeout=0.1 if listening or children else 0)
            for event, _ in ready:
                if event.fileobj is listener:
                    connection, _ = listener.accept()
                    pid = _fork_job(connection, selector)
                    if pid:
                        children[pid] = connection
                        selector.register(connection, selectors.EVENT_READ, pid)
                    else:
                        connection.close()  # the job runs in its own process
                elif not event.fileobj.recv(1):  # the job ended: Snakemake cancelled it
                    selector.unregister(event.fileobj)
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(event.data, signal.SIGKILL)
            while children:
                pid, status = os.waitpid(-1, os.WNOHANG)
                if not pid:
                    break
                connection = children.pop(pid)
                with contextlib.suppress(KeyError):
                    selector.unregister(connection)
                code = os.waitstatus_to_exitcode(status)  # -N: killed by signal N
                with contextlib.suppress(OSError):
                    connection.sendall(b"exit %d\n" % (code if code >= 0 else 128 - code))
                connection.close()
                idle_since = time.monotonic()
            if not listening and not children and not ready:
                break
    finally:
        if listening:
            _unlink_own(path, ours)
        listener.close()
    print(f"pid {os.getpid()}: idle for {IDLE_S:.0f} s, exiting", flush=True)


def _unlink_own(path: Path, inode: int) -> None:
    """Remove this server's socket, not one a newer server bound to the same name."""
    with contextlib.suppress(FileNotFoundError):
        if os.stat(path).st_ino == inode:
            path.unlink()


def _fork_job(connection: socket.socket, selector: selectors.BaseSelector) -> int | None:
    """Read a job's request and fork its child; the child's pid (None: a bad request)."""
    connection.settimeout(10)
    fds: list[int] = []
    try:
        peer = struct.unpack("3i", connection.getsockopt(
            socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
        if peer[1] != os.getuid():
            raise OSError(f"a process of user {peer[1]} connected")
        data, fds, _, _ = socket.recv_fds(connection, 1 << 16, 3)
        size = struct.unpack("!I", data[:4])[0]
        while len(data) < 4 + size:
            chunk = connection.recv(1 << 16)
            if not chunk:
                raise OSError("request cut short")
            data += chunk
        request = pickle.loads(data[4:4 + size])
        connection.settimeout(None)
        if problem := fork_problem():
            raise OSError(f"not forking: {problem}")
        sys.stdout.flush()
        server = os.getpid()
        pid = os.fork()
    except Exception as error:  # noqa: BLE001  (the job then runs in its own process)
        print(f"job not taken: {type(error).__name__}: {error}", flush=True)
        for fd in fds:
            os.close(fd)
        return None
    if pid:
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)  # also set in the child: whichever runs first
        for fd in fds:
            os.close(fd)
        with contextlib.suppress(OSError):
            connection.sendall(b"started\n")
        return pid
    _die_with(server)
    _run_child(request, fds, connection, selector)  # never returns


def _run_child(request: dict, fds: list[int], connection: socket.socket,
               selector: selectors.BaseSelector) -> None:
    global IN_CHILD
    code = 1
    try:
        os.setpgid(0, 0)
        for key in list(selector.get_map().values()):  # the listener, other jobs' connections
            key.fileobj.close()
        selector.close()
        connection.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["environ"])
        sys.argv = list(request["argv"])
        if not sys.flags.safe_path:  # as `python script.py`
            sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))
        os.umask(request["umask"])
        os.sched_setaffinity(0, request["affinity"])
        IN_CHILD = True
        runpy.run_path(sys.argv[0], run_name="__main__")
        code = 0
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            code = done.code or 0
        else:
            print(done.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001  (the job's failure, reported as Python would)
        traceback.print_exc()
    finally:
        try:
            _join_threads()
            atexit._run_exitfuncs()  # the job's (its log's last line) and its libraries'
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
        finally:
            os._exit(code)


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when ``parent`` (the server) dies: a job whose server
    was killed has ended for Snakemake, so its child must not run on and write its outputs."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the server died before the call
        os._exit(1)


def _join_threads() -> None:
    """Wait for the job's non-daemon threads, as an interpreter does before it exits."""
    import threading

    threading._shutdown()  # what the interpreter calls at exit: its hooks, then the threads

