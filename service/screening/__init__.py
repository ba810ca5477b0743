"""Population screening: a Bulk FHIR export in, a ranked worklist and a report out.

Modules, in the order a run goes through them:

- :mod:`~service.screening.ndjson`: find and read the export's NDJSON files (gzip or not);
- :mod:`~service.screening.selection`: count everyone, select candidates by Condition
  code and group their resources by patient, out of core (:mod:`~service.screening.store`);
- :mod:`~service.screening.embedded`: evaluate candidates on every core, each through
  :func:`~service.screening.evaluate.evaluate_group` (the CLI's evaluation);
- :mod:`~service.screening.worklist`, :mod:`~service.screening.report_data`,
  :mod:`~service.screening.report_html`, :mod:`~service.screening.report_pdf`: outputs;
- :mod:`~service.screening.run`: one resumable run; :mod:`~service.screening.command`:
  the ``screen`` and ``synth`` subcommands.

This package module holds no code, so importing a submodule stays cheap.
"""
