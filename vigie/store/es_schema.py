"""The Elasticsearch index layout moved to `vigie/store/elasticsearch/schema.py`; this name stays an alias of
that module (the exported `dashboards/index-template.json` and existing imports name it)."""

import sys

from vigie.store.elasticsearch import schema

sys.modules[__name__] = schema
