"""Job logs: what a rule's script does first, so everything lands in the rule's log file."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def start(log_path: str) -> None:
    """Send stdout, stderr and the ``logging`` records of this job to ``log_path``."""
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    stream = open(log_path, "w", buffering=1)  # noqa: SIM115  (lives as long as the job)
    sys.stdout = sys.stderr = stream
    logging.basicConfig(
        stream=stream, level=logging.INFO, force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
