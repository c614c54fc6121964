"""Shared pytest fixtures. Each room keeps its fixtures in its own module, imported here."""

import pytest
from es_fixtures import es_client, es_osmem, es_prefix, es_proxy  # noqa: F401  (Elasticsearch / osmem)


@pytest.fixture(autouse=True)
def _forget_registered_secrets():
    """Secrets register themselves process-wide as they are read (vigie.core.secrets); a test's fake secrets
    ("secret", "wrong") must not mask words in the next test's messages."""
    yield
    from vigie.core.secrets import SCRUBBER

    SCRUBBER.clear()


def pytest_sessionstart(session):
    """The bundled demo's posts are generated, not committed: make them before any test (or subprocess) reads them."""
    from vigie.sim.demo import ensure_bundled_demo

    ensure_bundled_demo()
