"""One rank of a multi-process training, as torchrun starts it:

    python -m torch.distributed.run --standalone --nproc-per-node=N \\
        -m biasamp.models.trainer_rank RUN.json

``RUN.json`` holds the arguments of :func:`biasamp.models.open_clip_trainer.run_trainer`; torchrun's
environment (RANK, LOCAL_RANK, WORLD_SIZE, ...) tells open_clip_train which rank this is.
"""

import json
import logging
import sys

from biasamp.models.open_clip_trainer import run_trainer

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    status = run_trainer(**json.loads(open(sys.argv[1]).read()))
    sys.exit(status or 0)
