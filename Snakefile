# Does AI-generated training data amplify social bias in vision models?
# prepare -> generate -> mix -> train -> evaluate -> aggregate -> plot; see README.md.
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

min_version("9.0")

# The package lives in src/; jobs (local, conda or SLURM) import it from there too, so the
# code that runs is always the code that was fingerprinted.
sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from biasamp.config import ConfigError, check_yaml_file

# The default study; a study given with --configfile replaces it rather than merging into it.
if not workflow.overwrite_configfiles:
    try:
        check_yaml_file("config/config.yaml")  # Snakemake's own message names no line
    except ConfigError as error:
        raise WorkflowError(str(error)) from None

    configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/prepare.smk"
include: "workflow/rules/generate.smk"
include: "workflow/rules/mix.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/aggregate.smk"
include: "workflow/rules/plot.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
