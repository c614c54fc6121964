"""Shared pytest fixtures. Each room keeps its fixtures in its own module, imported here."""

from es_fixtures import es_client, es_osmem, es_prefix, es_proxy  # noqa: F401  (Elasticsearch / osmem)
