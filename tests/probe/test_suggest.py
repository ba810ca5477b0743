"""Which input a local code's text suggests, and which texts must suggest nothing."""

from __future__ import annotations

import pytest

from service.mappers.codes import DEFAULT_TERMINOLOGY
from service.probe.suggest import suggest


@pytest.mark.parametrize(
    ("kind", "text", "name"),
    [
        ("Observation", "Bilirubin, total (local 1234)", "bilirubin"),
        ("Observation", "BILIRUBIN TOTAL SERUM", "bilirubin"),
        ("Observation", "Platelets [#/volume] in Blood by Automated count", "platelets"),
        ("Observation", "PLT", "platelets"),
        ("Observation", "Ki-67 proliferation index", "ki67"),
        ("Observation", "MIB-1 labelling index", "ki67"),
        ("Observation", "ECOG performance status", "ecog"),
        ("Observation", "Histologic grade", "grade"),
        ("Observation", "Disease status (RECIST)", "disease_course"),
        ("Observation", "Future liver remnant (%)", "future_liver_remnant"),
        ("Observation", "Hepatic tumour burden (% of liver)", "hepatic_tumour_burden"),
        ("Observation", "MDT staging: extrahepatic disease present", "extrahepatic_staging"),
        ("Observation", "Metastatic pattern (Frilling)", "metastatic_pattern"),
        ("Observation", "MDT: all liver metastases resectable", "hepatic_disease_resectable"),
        ("Observation", "Primary tumour resectable", "primary_resectable"),
        ("Observation", "Primary tumour resected", "primary_resected"),
        ("Observation", "Refractory hormonal syndrome", "refractory_hormonal_syndrome"),
        ("Condition", "Metastatic neuroendocrine tumour to liver", "liver_metastasis"),
        ("Condition", "Secondary malignant neoplasm of liver", "liver_metastasis"),
        ("Condition", "Bone metastases", "extrahepatic_metastasis"),
        ("Condition", "Small cell neuroendocrine carcinoma", "neuroendocrine_carcinoma"),
        ("Condition", "Alcoholic cirrhosis of liver", "cirrhosis"),
        ("Condition", "Hepatic steatosis", "significant_liver_disease"),
        ("Condition", "Oesophageal varices", "portal_hypertension_signs"),
        ("Condition", "Carcinoid heart disease", "carcinoid_heart_disease"),
        ("Condition", "Carcinoid syndrome", "carcinoid_syndrome"),
        ("Procedure", "Small bowel resection", "primary_resection"),
        ("Procedure", "Whipple procedure", "primary_resection"),
        ("Procedure", "Orthotopic liver transplantation", "liver_transplant"),
    ],
)
def test_a_text_suggests_its_input(kind: str, text: str, name: str) -> None:
    suggestion = suggest(kind, text, DEFAULT_TERMINOLOGY)
    assert suggestion is not None
    assert suggestion.name == name


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("Observation", "Bilirubin, direct"),
        ("Observation", "Conjugated bilirubin"),
        ("Observation", "Mean platelet volume"),
        ("Observation", "Platelet distribution width"),
        ("Observation", "Creatinine"),
        ("Observation", "HER2 by IHC"),
        ("Observation", "Pain grade"),
        ("Procedure", "Right hepatectomy"),
        ("Procedure", "Liver biopsy"),
        ("Condition", "Type 2 diabetes"),
        ("Condition", ""),
    ],
)
def test_texts_that_look_alike_suggest_nothing(kind: str, text: str) -> None:
    assert suggest(kind, text, DEFAULT_TERMINOLOGY) is None


@pytest.mark.parametrize(
    ("text", "site", "drainage"),
    [
        ("Neuroendocrine tumour of ileum", "ileum", "portal"),
        ("Pancreatic NET", "pancreas", "portal"),
        ("Malignant neoplasm of endocrine pancreas", "pancreas", "portal"),
        ("Rectal NET", "rectum", "not_portal"),
        ("Bronchial carcinoid", "lung/bronchus", "not_portal"),
        ("Neuroendocrine tumour, primary unknown site", "unspecified site", "undetermined"),
    ],
)
def test_a_primary_site_and_its_drainage_are_guessed(text: str, site: str, drainage: str) -> None:
    suggestion = suggest("Condition", text, DEFAULT_TERMINOLOGY)
    assert suggestion is not None
    assert (suggestion.section, suggestion.site, suggestion.drainage) == (
        "primary_sites",
        site,
        drainage,
    )
