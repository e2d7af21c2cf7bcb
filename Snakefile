# Does AI-generated training data amplify social bias in vision models? See README.md.
# The workflow is workflow/Snakefile (the layout of the Snakemake workflow catalog); this file
# lets `snakemake` run it from the repository root. Included through the API rather than the
# `include:` directive, which would drop its default target (`rule all`).
workflow.include("workflow/Snakefile", overwrite_default_target=True)
