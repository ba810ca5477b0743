"""NELM-CDS: eligibility of neuroendocrine liver metastases for transplant or resection."""

__version__ = "0.1.0"
ENGINE_NAME = "nelm-cds"
