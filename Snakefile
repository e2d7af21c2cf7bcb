# Does AI-generated training data amplify social bias in vision models?
# prepare -> generate -> mix -> train -> evaluate -> aggregate -> plot; see README.md.
from snakemake.utils import min_version

min_version("9.0")


# The default study; a study given with --configfile replaces it rather than merging into it.
if not workflow.overwrite_configfiles:

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
