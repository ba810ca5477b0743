"""Who may call the service, and the record of who did.

Modules, lowest first (each imports only those above it):

- :mod:`~service.auth.keys`: issuers' verification keys (inline, file, URL), and
  :class:`~service.auth.keys.TokenError`;
- :mod:`~service.auth.tokens`: the JWT checks CDS Hooks client tokens and REST access
  tokens share (algorithm, kid, typ, issuer, jku, signature, audience, times);
- :mod:`~service.auth.issuers`: the issuer tables of the settings (``CDS_ISSUERS``,
  ``API_ISSUERS``), OpenID Connect discovery;
- :mod:`~service.auth.replay`: the ``jti`` replay cache, in the shared store;
- :mod:`~service.auth.resource_server`: the REST API's access tokens and scopes;
- :mod:`~service.auth.audit`: the audit trail (one JSON line per access to patient data);
- :mod:`~service.auth.guard`: Flask glue guarding the REST routes.

The CDS Hooks validator built on these is :mod:`service.cdshooks.security`. This
package module holds no code, so importing a submodule stays cheap.
"""
