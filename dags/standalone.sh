#!/usr/bin/env bash
# Start Airflow standalone on 127.0.0.1 with Vigie's DAGs and a Vigie config (default: the demo).
# Used by `make airflow`; see dags/README.md. Everything lives under $AIRFLOW_HOME (default out/airflow).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AIRFLOW="${AIRFLOW:-$ROOT/.venv/bin/airflow}"
# standalone starts its components as `airflow ...` subprocesses: the venv must be first on PATH.
export PATH="$(dirname "$AIRFLOW"):$PATH"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$ROOT/out/airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$ROOT/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__API__HOST=127.0.0.1
export AIRFLOW__API__PORT="${AIRFLOW_PORT:-8080}"
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:${AIRFLOW__API__PORT}/execution/"
export VIGIE_CONFIG="$(realpath "${VIGIE_CONFIG:-$ROOT/samples/demo/vigie.yml}")"
# Workers import `vigie`, `listeners`, ... from the repository.
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
cd "$ROOT"
# The bundled demo's posts are generated on first use, not committed.
"$(dirname "$AIRFLOW")/python" -c "from vigie.sim.demo import ensure_bundled_demo; ensure_bundled_demo()"
mkdir -p "$AIRFLOW_HOME"
"$AIRFLOW" db migrate >/dev/null
"$AIRFLOW" pools import "$ROOT/dags/pools.json" >/dev/null
echo "Vigie config: $VIGIE_CONFIG"
echo "Airflow UI:   http://127.0.0.1:${AIRFLOW__API__PORT}  (user admin; password in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated)"
exec "$AIRFLOW" standalone
