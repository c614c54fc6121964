"""Vigie maintenance: Elasticsearch setup and Kibana dashboards (idempotent, so also right after a
deploy: trigger this DAG), the daily HTML report, quarantine review counts, retention (posts older than
the retention period: the ILM policy on Elasticsearch; `Store.purge` on SQLite and on clusters without ILM),
collection health (a red task when a source is blind: vigie/pipeline/status.py).

Secrets: Elasticsearch and Kibana credentials come from the environment variables named in the config
(`api_key_env`, ...) and KIBANA_API_KEY / KIBANA_USERNAME + KIBANA_PASSWORD; the report e-mail uses the
Airflow Connection `vigie_smtp` and is sent only when the Variable `vigie_report_email` lists recipients.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import CronTriggerTimetable, Variable, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException

from vigie.pipeline import airflow as af
from vigie.core.config import ConfigError

REPORT_EMAIL_VARIABLE = "vigie_report_email"
SMTP_CONNECTION = "vigie_smtp"


def _config():
    try:
        return af.load(Variable.get(af.CONFIG_VARIABLE, default=None))
    except ConfigError as exc:
        raise AirflowFailException(str(exc)) from None


@dag(
    dag_id="vigie_maintenance",
    description="ES setup + Kibana import, daily report, quarantine counts, retention",
    schedule=CronTriggerTimetable("0 6 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,  # yesterday's report is enough; no one wants a month of back-reports after an outage
    max_active_runs=1,
    default_args=af.default_args(retries=2, timeout_minutes=30),
    tags=["vigie", "maintenance"],
    doc_md=__doc__,
)
def vigie_maintenance():
    @task
    def es_setup() -> list[str]:
        from vigie.pipeline.maintenance import es_setup_if_configured

        lines = es_setup_if_configured(_config())
        print("\n".join(lines))
        return lines

    @task
    def kibana_import() -> list[str]:
        from vigie.pipeline.maintenance import kibana_import_if_configured

        lines = kibana_import_if_configured(_config())
        print("\n".join(lines))
        return lines

    @task
    def daily_report() -> str:
        from vigie.pipeline.maintenance import daily_report

        context = get_current_context()
        with af.runtime(_config(), notifiers=[]) as rt:  # never delivers
            path = daily_report(rt, af.run_clock(context))
        recipients = [r.strip() for r in (Variable.get(REPORT_EMAIL_VARIABLE, default="") or "").split(",") if r.strip()]
        if recipients:
            from airflow.providers.smtp.hooks.smtp import SmtpHook

            with SmtpHook(smtp_conn_id=SMTP_CONNECTION) as hook:
                hook.send_email_smtp(
                    to=recipients, subject=f"Vigie daily report {path.stem}",
                    html_content=path.read_text(encoding="utf-8"), files=[str(path)],
                )
        print(f"report written to {path}; e-mailed to {len(recipients)} recipient(s)")
        return str(path)

    @task
    def quarantine_review() -> dict[str, Any]:
        from vigie.pipeline.maintenance import quarantine_counts

        with af.runtime(_config(), notifiers=[]) as rt:  # never delivers
            counts = quarantine_counts(rt.store)
        for source, reasons in counts.items():
            print(f"{source}: {sum(reasons.values())} quarantined: {reasons}")
        return counts

    @task
    def retention() -> str:
        from vigie.pipeline.maintenance import apply_retention

        context = get_current_context()
        config = _config()
        with af.runtime(config, notifiers=[]) as rt:  # never delivers
            line = apply_retention(rt.store, config, af.run_clock(context))
        print(line)
        return line

    @task
    def collection_health() -> dict[str, Any]:
        """Fails (red, no retry) when a source is blind: a revoked token, a spent quota, a source failing
        for `coverage.failing_minutes` or whose volume collapsed (`vigie status` tells the details)."""
        from vigie.pipeline.status import SourcesBlind, check_collection

        context = get_current_context()
        config = _config()
        with af.runtime(config, notifiers=[]) as rt:  # never delivers
            try:
                status = check_collection(config, rt.store, af.run_clock(context))
            except SourcesBlind as exc:
                raise AirflowFailException(str(exc)) from None
        for s in status["sources"]:
            print(f"{s['source']}: {s['state']}, last success {s['last_success'] or '-'}")
        return {s["source"]: s["state"] for s in status["sources"]}

    es_setup() >> kibana_import()
    collection_health()
    # The report reads the store; keep retention after it so the report still sees yesterday's posts.
    report = daily_report()
    report >> retention()
    quarantine_review()


vigie_maintenance()
