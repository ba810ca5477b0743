"""Turn any scenario Bundle into a transaction that loads it with its own ids."""

from __future__ import annotations

import copy
from typing import Any

Resource = dict[str, Any]


def _rewrite_references(node: Any, targets: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str) and value in targets:
                node[key] = targets[value]
            else:
                _rewrite_references(value, targets)
    elif isinstance(node, list):
        for item in node:
            _rewrite_references(item, targets)


def as_put_transaction(bundle: Resource) -> Resource:
    """Return a transaction that PUTs every resource of ``bundle`` at ``Type/id``.

    References to an entry's fullUrl (``urn:uuid:...`` or an absolute URL) become
    ``Type/id``, so the server holds the same ids and references as the file.
    Entries without a resource or an id are left out.
    """
    entries = [
        entry
        for entry in bundle.get("entry", [])
        if isinstance(entry, dict)
        and isinstance(entry.get("resource"), dict)
        and isinstance(entry["resource"].get("id"), str)
    ]
    targets = {
        entry["fullUrl"]: f"{entry['resource']['resourceType']}/{entry['resource']['id']}"
        for entry in entries
        if isinstance(entry.get("fullUrl"), str)
    }
    puts = []
    for entry in entries:
        resource = copy.deepcopy(entry["resource"])
        _rewrite_references(resource, targets)
        url = f"{resource['resourceType']}/{resource['id']}"
        puts.append({"resource": resource, "request": {"method": "PUT", "url": url}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": puts}
