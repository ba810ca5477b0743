"""Site onboarding: ``python -m service probe --fhir-base URL``.

Before go-live, tell a site whether its FHIR server supports what the service does and
whether its data carries the codes the criteria need:

- :mod:`~service.probe.checks`: the CapabilityStatement, and each search the service
  makes, tried for real (``patient=``, ``code=`` with several codes, ``_count``, paging);
- :mod:`~service.probe.writecheck`: the RiskAssessment write, opt-in, leaving nothing;
- :mod:`~service.probe.sampling`: patients with a liver-metastasis Condition (by code, or
  by the text of local codes), and all their Observations, Conditions and Procedures;
- :mod:`~service.probe.usable`: per criteria input, how many patients carry usable data;
- :mod:`~service.probe.inventory` and :mod:`~service.probe.suggest`: the local codes the
  service does not read, with what their text suggests;
- :mod:`~service.probe.draft`: a draft site-codes file, every entry marked for review;
- :mod:`~service.probe.report` and :mod:`~service.probe.render`: JSON, text and HTML.

:mod:`~service.probe.options` declares the command line (cheap to import) and
:mod:`~service.probe.command` runs it. Depends downward only (FHIR client, mappers,
criteria); nothing imports it but the command line.
"""
