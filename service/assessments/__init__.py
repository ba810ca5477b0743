"""Recording the MDT's findings: one form definition, as an HTML form and as a FHIR
Questionnaire, and the Observations a submission writes.

- :mod:`~service.assessments.fields`: the questions (the service's assessment codes,
  terminology.md), how each answer is read and checked, and what the record says now;
- :mod:`~service.assessments.observations`: the Observation a changed answer becomes;
- :mod:`~service.assessments.questionnaire`: the same questions as a FHIR Questionnaire.

Depends on the criteria and mappers (downward); the pages and their routes use it.
"""
