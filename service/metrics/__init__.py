"""Prometheus metrics: what the service did, never about whom.

``GET /metrics`` answers the Prometheus text format (prometheus-client). The metrics:

- ``nelm_http_requests_total`` and ``nelm_http_request_duration_seconds`` (histogram),
  labelled ``method``, ``route`` (the route *template*, ``/api/patients/<patient_id>/
  evaluation``, never the path) and ``status``;
- ``nelm_cds_hook_calls_total`` by ``outcome``: ``card``, ``no_card`` or
  ``precondition_failed`` (412, data not prefetched and not fetchable);
- ``nelm_fhir_request_duration_seconds`` (histogram) and
  ``nelm_fhir_request_failures_total`` by ``interaction`` (``read``, ``search``,
  ``page``, ``write``, ``token``) and, for failures, ``reason`` (``timeout``,
  ``deadline``, ``unavailable``, ``auth``, ``not_found``, ``refused``,
  ``invalid_response``, ``not_allowed``, ``error``);
- ``nelm_evaluation_duration_seconds`` (histogram): one patient's evaluation.

Every label takes a value from a fixed, small set: no patient id, path, query, token or
server address can reach one.

Under gunicorn the workers are separate processes: the server runs prometheus-client's
multi-process mode (:mod:`~service.metrics.multiprocess`), so a scrape reaching any
worker reports the sum over all of them.

Modules: :mod:`~service.metrics.recorders` (the metrics and the functions that record
them; no Flask), :mod:`~service.metrics.multiprocess` (the shared folder),
:mod:`~service.metrics.exposition` (the route and the request hooks).

This package module holds nothing else, so the FHIR client can import the recorders
without Flask.
"""
