"""Job logs: what a rule's script does first, so everything lands in the rule's log file."""

from __future__ import annotations

import atexit
import logging
import os
import sys
import time
from pathlib import Path

# Libraries whose import dominates a job's start-up; the log's last line names those it loaded,
# so what a rule pays for start-up can be read (and is tested) rule by rule.
HEAVY = ("torch", "torchvision", "torchvision.models", "open_clip", "open_clip_train", "timm",
         "transformers", "diffusers", "sklearn", "scipy", "matplotlib", "seaborn", "pycocotools",
         "pycocoevalcap", "cv2")


# The job's log, once :func:`start` ran.
LOG_PATH: Path | None = None
# Heavy libraries the job's worker processes loaded: the job's last line names them too.
WORKERS_LOADED: set[str] = set()
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def side_file(name: str, fallback: str | Path) -> Path:
    """A file beside the job's log (``{log}.{name}``) for long output that would bury the
    log's end (a model's architecture); ``fallback`` outside a job."""
    return LOG_PATH.with_name(f"{LOG_PATH.name}.{name}") if LOG_PATH else Path(fallback)


def start(log_path: str) -> None:
    """Send stdout, stderr and the ``logging`` records of this job to ``log_path``."""
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    Path(log_path).write_text("")
    join(log_path)
    from biasamp import warmstart

    if warmstart.IN_CHILD:
        logging.getLogger(__name__).info(
            "warm start: forked from the server (pid %d) that had imported %s", os.getppid(),
            _named(heavy_loaded()))
    started = time.monotonic()
    atexit.register(lambda: logging.getLogger(__name__).info(
        "job done in %.1f s; heavy libraries loaded: %s", time.monotonic() - started,
        _named(heavy_loaded() | WORKERS_LOADED)))


def _named(modules: set[str]) -> str:
    """``modules`` in :data:`HEAVY`'s order, for a log line."""
    return ", ".join(m for m in HEAVY if m in modules) or "none"


def join(log_path: str | None) -> None:
    """Append this process's stdout, stderr and ``logging`` records to the job's log
    ``log_path``: the job's own (:func:`start`), or one of its worker processes (a pool's
    initializer; nothing outside a job, None). Appending keeps the processes' lines whole."""
    if log_path is None:
        return
    global LOG_PATH
    LOG_PATH = Path(log_path)
    stream = open(log_path, "a", buffering=1)  # noqa: SIM115  (lives as long as the process)
    sys.stdout = sys.stderr = stream
    logging.basicConfig(stream=stream, level=logging.INFO, force=True, format=FORMAT)


def heavy_loaded() -> set[str]:
    """The :data:`HEAVY` libraries this process has loaded."""
    return {m for m in HEAVY if m in sys.modules}
