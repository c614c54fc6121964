"""The client side of running the Elasticsearch adapter against osmem-server (an in-memory OpenSearch-compatible
server; no Elasticsearch can be installed here), for the tests and bench/store.py. NEVER USED IN PRODUCTION.

The official client sends `Accept/Content-Type: application/vnd.elasticsearch+json; compatible-with=8`, which osmem
refuses (406). `OsmemNode` is a subclass of the client's public `node_class` extension point that rewrites those two
headers to `application/json` / `application/x-ndjson`; `osmem_client(url)` builds a client with it. A real cluster
needs neither: production code builds its client in vigie/store/elasticsearch/ and must never import this module
(checked by tests/test_import_contract.py and tests/test_store_elasticsearch.py::test_osmem_node_is_test_only).
"""

from __future__ import annotations

from elastic_transport import HttpHeaders, Urllib3HttpNode
from elasticsearch import Elasticsearch

COMPAT = "compatible-with"


def plain_content_type(value: str) -> str:
    return "application/x-ndjson" if "x-ndjson" in value else "application/json"


class OsmemNode(Urllib3HttpNode):
    """Rewrites the versioned media types osmem refuses (406) to the plain ones it accepts."""

    def perform_request(self, method, target, body=None, headers=None, **kwargs):  # type: ignore[override]
        fixed = HttpHeaders(headers or {})
        for name in ("accept", "content-type"):
            value = fixed.get(name)
            if value and COMPAT in value:
                fixed[name] = plain_content_type(value)
        # The node's default headers carry the versioned Accept too.
        for name in ("accept", "content-type"):
            value = self._headers.get(name)
            if value and COMPAT in value and name not in fixed:
                fixed[name] = plain_content_type(value)
        return super().perform_request(method, target, body=body, headers=fixed, **kwargs)


def osmem_client(url: str) -> Elasticsearch:
    return Elasticsearch(url, node_class=OsmemNode, request_timeout=30)
