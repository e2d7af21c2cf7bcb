"""biasamp: does AI-generated training data amplify social bias in vision models?

All logic of the workflow lives in this package; the Snakemake rules only wire it together.
"""

__version__ = "0.1.0"
