"""The dashboard and the alerts work against the real thing.

- `promtool check rules` and `promtool test rules` pass on nomad/prometheus/, and every alert has a
  unit test that fires it and one that does not.
- The Grafana dashboard and its provisioning files are well formed, every panel has a query, and
  every metric the dashboard, the alerts or the Nomad job name is one Tally defines.
- A real Prometheus (Debian's `prometheus`, which .ci/tools.sh installs) scrapes a live `tally
  serve` under MCP traffic as job="tally-staging", with the alert rules loaded. Through its HTTP
  API, every dashboard query, every alert's series expression and the Nomad job's scaling queries
  return data, and the rule group is loaded and healthy.

An alert's expression returns data only while its condition holds, so the alert is checked as
`<series expression> <comparison> <threshold>`: the series expression (everything before the
threshold) must return data, and so must the same comparison with `bool`, which yields 0 or 1 for
every series instead of filtering them out.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import hcl2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
NOMAD = ROOT / "nomad"
RULES = NOMAD / "prometheus" / "tally-alerts.yml"
RULE_TESTS = NOMAD / "prometheus" / "tally-alerts.test.yml"
RUNBOOK = NOMAD / "RUNBOOK.md"
DASHBOARD = NOMAD / "grafana" / "tally-dashboard.json"
PROVISIONING = NOMAD / "grafana" / "provisioning"
JOB = "tally-staging"

# Grafana's variables as the test evaluates the dashboard: the job the Nomad job scrapes as, every
# replica, and a rate window of a minute (Grafana's $__rate_interval is at least four scrapes).
VARIABLES = {"job": JOB, "instance": ".*", "__rate_interval": "1m", "__interval": "15s", "__range": "5m"}
# Threshold comparisons an alert may end with, longest first so `>=` is not read as `>`.
COMPARISON = re.compile(r"(?s)^(?P<series>.*\S)\s*(?P<op>>=|<=|==|!=|>|<)\s*(?P<threshold>-?\d+(?:\.\d+)?)\s*$")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is not on PATH: run `bash .ci/tools.sh` (Debian's prometheus package)")
    return path


def _alerts() -> list[dict]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def _dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def _panels(dashboard: dict) -> list[dict]:
    """Every panel, rows' nested panels included, rows themselves left out."""
    out = []
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            out.extend(panel.get("panels", []))
        else:
            out.append(panel)
    return out


def _substitute(expr: str) -> str:
    def value(m):
        name = m.group(1) or m.group(2)
        assert name in VARIABLES, f"unknown dashboard variable ${name} in {expr}"
        return VARIABLES[name]

    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", value, expr)


def _scaling_queries() -> list[str]:
    with open(NOMAD / "tally.nomad.hcl") as f:
        doc = hcl2.load(f)
    (jobs,) = doc["job"]
    ((_, job),) = jobs.items()
    (groups,) = job["group"]
    ((_, group),) = groups.items()
    (scaling,) = group["scaling"]
    (policy,) = scaling["policy"]
    queries = []
    for check in policy["check"]:
        for body in check.values():
            assert body["source"].strip('"') == "prometheus"
            queries.append(json.loads(body["query"]))  # an HCL string: quoted, inner quotes escaped
    assert queries
    return queries


# --- Static checks ----------------------------------------------------------------------------


def test_promtool_checks_the_rules():
    result = subprocess.run([_tool("promtool"), "check", "rules", str(RULES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    rules = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout, result.stdout


def test_promtool_unit_tests_pass():
    result = subprocess.run(
        [_tool("promtool"), "test", "rules", RULE_TESTS.name], cwd=RULE_TESTS.parent, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout, result.stdout


def test_every_alert_has_a_unit_test_that_fires_it_and_one_that_does_not():
    doc = yaml.safe_load(RULE_TESTS.read_text())
    assert doc["rule_files"] == [RULES.name]
    fired, quiet = set(), set()
    for case in doc["tests"]:
        for check in case.get("alert_rule_test", []):
            (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
    names = {a["alert"] for a in _alerts()}
    assert names - fired == set(), f"alerts no unit test fires: {names - fired}"
    assert names - quiet == set(), f"alerts no unit test keeps quiet: {names - quiet}"
    assert (fired | quiet) - names == set(), f"unit tests of alerts that do not exist: {(fired | quiet) - names}"


def test_every_alert_has_severity_summary_description_runbook_and_a_threshold():
    runbook = RUNBOOK.read_text()
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-") for h in re.findall(r"^#+ (.+)$", runbook, re.M)}
    alerts = _alerts()
    assert len({a["alert"] for a in alerts}) == len(alerts), "alert names are unique"
    for alert in alerts:
        name = alert["alert"]
        assert alert["labels"]["severity"] in {"critical", "warning", "info"}, name
        annotations = alert["annotations"]
        assert annotations["summary"].strip() and annotations["description"].strip(), name
        path, _, anchor = annotations["runbook_url"].partition("#")
        assert path == "nomad/RUNBOOK.md" and anchor == name.lower(), (name, annotations["runbook_url"])
        assert anchor in anchors, f"{name}: no `## {name}` section in nomad/RUNBOOK.md"
        assert COMPARISON.match(alert["expr"]), f"{name}: expr must end in `<comparison> <threshold>`"
        assert f'job="{JOB}"' in alert["expr"], f"{name}: select the Nomad job's series"


def test_dashboard_is_well_formed_and_every_panel_has_a_query():
    dashboard = _dashboard()
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource" and variables["DS_PROMETHEUS"]["query"] == "prometheus"
    assert variables["job"]["current"]["value"] == JOB
    assert variables["instance"]["includeAll"] and variables["instance"]["allValue"] == ".*"
    panels = _panels(dashboard)
    rows = [p for p in dashboard["panels"] if p["type"] == "row"]
    ids = [p["id"] for p in rows + panels]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    assert len({p["title"] for p in panels}) == len(panels), "panel titles are unique"
    for panel in panels:
        title = panel.get("title")
        assert title and panel.get("description"), panel.get("id")
        grid = panel["gridPos"]
        assert grid["w"] > 0 and grid["h"] > 0 and grid["x"] + grid["w"] <= 24, title
        assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}, title
        targets = panel.get("targets") or []
        assert targets, f"panel {title!r} has no query"
        assert len({t["refId"] for t in targets}) == len(targets), title
        for t in targets:
            assert t.get("expr", "").strip(), f"panel {title!r} has an empty query"
            assert t["datasource"] == panel["datasource"], title
            _substitute(t["expr"])  # every variable it uses is one the dashboard defines
    # The list: calls by tool and outcome, latency quantiles, queue depth, in-flight calls,
    # rejections by reason and by tenant limit, pool, sessions, recording drops, render time,
    # build version per replica.
    exprs = "\n".join(t["expr"] for p in panels for t in p["targets"])
    for needed in [
        "sum by (tool, outcome) (rate(tally_tool_calls_total",
        "histogram_quantile(0.5,", "histogram_quantile(0.95,", "histogram_quantile(0.99,",
        "tally_queue_depth", "tally_requests_in_flight",
        "sum by (reason) (rate(tally_rejections_total", 'reason=~"tenant_.*"',
        "tally_db_pool_connections", "tally_sessions_active", "tally_recording_dropped_total",
        "tally_document_render_seconds", "max by (instance, version) (tally_build_info",
    ]:
        assert needed in exprs, f"no panel queries {needed}"


def test_provisioning_points_grafana_at_the_dashboard_and_the_datasource():
    (datasources,) = list((PROVISIONING / "datasources").glob("*.yaml"))
    (source,) = yaml.safe_load(datasources.read_text())["datasources"]
    default = next(v for v in _dashboard()["templating"]["list"] if v["name"] == "DS_PROMETHEUS")
    assert source["type"] == "prometheus" and source["uid"] == default["current"]["value"]
    (dashboards,) = list((PROVISIONING / "dashboards").glob("*.yaml"))
    doc = yaml.safe_load(dashboards.read_text())
    assert doc["apiVersion"] == 1
    (provider,) = doc["providers"]
    assert provider["type"] == "file" and provider["options"]["path"].startswith("/")


def test_every_metric_named_is_one_tally_defines():
    """Metric names in the dashboard, the alerts and the Nomad job, against the names src/ records."""
    source = "\n".join(p.read_text() for p in (ROOT / "src").rglob("*.rs"))
    defined = set(re.findall(r'\b(?:counter|gauge|histogram)!\(\s*"(tally_[a-z_]+)"', source))
    assert "tally_tool_calls_total" in defined
    texts = [DASHBOARD.read_text(), RULES.read_text(), RULE_TESTS.read_text(), *_scaling_queries()]
    named = {re.sub(r"_(bucket|sum|count)$", "", m) for t in texts for m in re.findall(r"\b(tally_[a-z_]+)\b", t)}
    assert named - defined == set(), f"metrics Tally does not define: {named - defined}"


# --- A real Prometheus scraping a live Tally --------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as res:
        return json.loads(res.read())


class Session:
    """A 2025-11-25 MCP session over plain HTTP JSON-RPC."""

    def __init__(self, url: str, token: str):
        self.url, self.token, self.session, self.next_id = url, token, None, 1
        deadline = time.monotonic() + 10
        while True:  # a tenant at a tiny rate limit may be refused its initialize: wait and retry
            status, reply = self.post("initialize", {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "observability-test", "version": "1"}})
            if status == 200:
                break
            assert status == 429 and time.monotonic() < deadline, (status, reply)
            time.sleep(1.1)
        assert self.session, "initialize issued no Mcp-Session-Id"
        self.post("notifications/initialized", None)

    def post(self, method: str, params: dict | None) -> tuple[int, dict | None]:
        body = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            body["params"] = params
        if not method.startswith("notifications/"):
            body["id"] = self.next_id
            self.next_id += 1
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                   "Authorization": f"Bearer {self.token}", "MCP-Protocol-Version": "2025-11-25"}
        if self.session:
            headers["Mcp-Session-Id"] = self.session
        req = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                self.session = self.session or res.headers.get("Mcp-Session-Id")
                raw = res.read()
                return res.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            return e.code, json.loads(raw) if raw else None

    def call(self, tool: str, arguments: dict) -> tuple[int, dict | None]:
        return self.post("tools/call", {"name": tool, "arguments": arguments})

    def ok(self, tool: str, arguments: dict) -> dict:
        status, reply = self.call(tool, arguments)
        assert status == 200 and not reply["result"].get("isError"), (tool, status, reply)
        return reply["result"]["structuredContent"]

    def refused(self, tool: str, arguments: dict, code: str) -> None:
        status, reply = self.call(tool, arguments)
        assert status == 200 and reply["result"]["isError"], (tool, status, reply)
        assert reply["result"]["structuredContent"]["error"]["code"] == code, reply


def _throttled_token(tally_bin: str, server_env: dict) -> str:
    """A clerk of a tenant of its own with a quota of one call per second."""
    tenant = f"obs-{uuid.uuid4().hex[:12]}"
    subprocess.run([tally_bin, "tenant", "create", tenant, "--name", "Throttled", "--rate-limit", "1"],
                   env=server_env, check=True, capture_output=True)
    made = subprocess.run([tally_bin, "token", "create", "--tenant", tenant, "--role", "clerk", "--name", "obs"],
                          env=server_env, check=True, capture_output=True, text=True)
    return made.stdout.strip()


def _traffic(url: str, token: str, throttled_token: str, stop: threading.Event, errors: list) -> None:
    """Bills a customer end to end (a PDF rendered), makes agent errors and tenant refusals, then
    keeps a light mix going until `stop`, so rates are non-zero whenever Prometheus is asked."""
    try:
        agent = Session(url, token)
        customer = f"cust_{uuid.uuid4().hex[:12]}"
        agent.ok("upsert_customer", {"customer_id": customer, "name": "Observability Ltd", "currency": "EUR"})
        made = agent.ok("create_invoice", {"customer_id": customer, "currency": "EUR",
                                           "line_items": [{"description": "Dashboards", "amount_cents": 50_000, "quantity": 2}]})
        invoice_id = made["invoice_id"]
        agent.ok("send_invoice", {"invoice_id": invoice_id})
        agent.ok("apply_payment", {"invoice_id": invoice_id, "amount_cents": 10_000})
        agent.ok("render_invoice", {"invoice_id": invoice_id})
        agent.refused("apply_payment", {"invoice_id": invoice_id, "amount_cents": 10_000_000}, "overpayment")
        agent.refused("create_invoice", {"customer_id": customer, "line_items": []}, "invalid_params")
        throttled = Session(url, throttled_token)
        statuses = {throttled.call("list_invoices", {})[0] for _ in range(6)}
        assert 429 in statuses, f"a 1/s tenant quota refused none of 6 calls at once: {statuses}"
        rounds = 0
        while not stop.is_set():
            agent.ok("list_invoices", {"customer_id": customer})
            agent.refused("get_invoice", {"invoice_id": "inv_" + "0" * 32}, "not_found")
            throttled.call("list_outstanding", {})
            if rounds % 20 == 0:
                agent.ok("render_invoice", {"invoice_id": invoice_id})
            rounds += 1
            stop.wait(0.2)
    except BaseException as e:  # reported by the fixture, in the test's own thread
        errors.append(e)


class Prometheus:
    def __init__(self, base: str):
        self.base = base

    def query(self, expr: str) -> list:
        url = f"{self.base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        try:
            reply = _get(url)
        except urllib.error.HTTPError as e:
            pytest.fail(f"Prometheus refused {expr!r}: {e.code} {e.read().decode()}")
        assert reply["status"] == "success", (expr, reply)
        assert reply["data"]["resultType"] == "vector", (expr, reply["data"]["resultType"])
        return reply["data"]["result"]

    def value(self, expr: str) -> float:
        result = self.query(expr)
        assert len(result) == 1, (expr, result)
        return float(result[0]["value"][1])


@pytest.fixture(scope="module")
def prometheus(tally_bin, server_env, server_url, token):
    """A real Prometheus scraping the live Tally every second as job="tally-staging", with the
    alert rules loaded and evaluated every second, while MCP traffic runs against Tally."""
    binary = _tool("prometheus")
    work = Path(tempfile.mkdtemp(prefix="tally-prometheus-"))
    port = _free_port()
    target = urllib.parse.urlsplit(server_url).netloc
    (work / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [{"job_name": JOB, "metrics_path": "/metrics", "static_configs": [{"targets": [target]}]}],
    }))
    log = open(work / "prometheus.log", "w")
    proc = subprocess.Popen(
        [binary, f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    stop, errors = threading.Event(), []
    traffic = None

    def fail(message):
        log.flush()
        pytest.fail(f"{message}\n--- prometheus log ---\n{(work / 'prometheus.log').read_text()[-3000:]}")

    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                fail(f"prometheus exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"{base}/-/ready", timeout=1) as res:
                    if res.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                fail("prometheus was not ready in 30 s")
            time.sleep(0.2)
        prom = Prometheus(base)
        throttled = _throttled_token(tally_bin, server_env)
        traffic = threading.Thread(target=_traffic, args=(server_url, token, throttled, stop, errors), daemon=True)
        traffic.start()
        # Samples exist once two scrapes have seen the traffic: the calls, a rendered document and
        # a tenant refusal show as rates above zero.
        ready = [
            f'sum(rate(tally_tool_calls_total{{job="{JOB}", outcome="ok"}}[1m])) > 0',
            f'sum(rate(tally_tool_calls_total{{job="{JOB}", outcome="not_found"}}[1m])) > 0',
            f'sum(rate(tally_document_render_seconds_count{{job="{JOB}"}}[1m])) > 0',
            f'sum(rate(tally_rejections_total{{job="{JOB}", reason="tenant_rate_limited"}}[1m])) > 0',
        ]
        deadline = time.monotonic() + 40
        while not all(prom.query(q) for q in ready):
            if errors:
                raise errors[0]
            if time.monotonic() > deadline:
                fail("no samples of the traffic in 40 s: " + ", ".join(q for q in ready if not prom.query(q)))
            time.sleep(0.5)
        yield prom
        if errors:
            raise errors[0]
    finally:
        stop.set()
        if traffic is not None:
            traffic.join(timeout=30)
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def test_the_rule_group_is_loaded_and_healthy(prometheus):
    expected = {a["alert"]: a for a in _alerts()}
    deadline = time.monotonic() + 20
    while True:  # until every rule has been evaluated once
        groups = _get(f"{prometheus.base}/api/v1/rules")["data"]["groups"]
        rules = {r["name"]: r for g in groups for r in g["rules"]}
        if rules and all(r["health"] != "unknown" for r in rules.values()):
            break
        assert time.monotonic() < deadline, f"rules not evaluated in 20 s: {rules}"
        time.sleep(0.5)
    assert [g["name"] for g in groups] == ["tally"] and groups[0]["file"] == str(RULES)
    assert set(rules) == set(expected)
    for name, rule in rules.items():
        assert rule["type"] == "alerting", name
        assert rule["health"] == "ok" and not rule.get("lastError"), (name, rule.get("lastError"))
        assert rule["labels"]["severity"] == expected[name]["labels"]["severity"], name


def test_every_dashboard_query_returns_data(prometheus):
    empty = []
    for panel in _panels(_dashboard()):
        for target in panel["targets"]:
            expr = _substitute(target["expr"])
            if not prometheus.query(expr):
                empty.append(f"{panel['title']} [{target['refId']}]: {expr}")
    assert not empty, "dashboard queries with no data:\n" + "\n".join(empty)


def test_the_dashboard_shows_the_traffic(prometheus):
    """Beyond returning data: the panels show what the traffic did."""
    panels = {p["title"]: p for p in _panels(_dashboard())}

    def results(title, ref="A"):
        (target,) = [t for t in panels[title]["targets"] if t["refId"] == ref]
        return prometheus.query(_substitute(target["expr"]))

    by_outcome = {(r["metric"]["tool"], r["metric"]["outcome"]): float(r["value"][1])
                  for r in results("Calls per second by tool and outcome")}
    assert by_outcome[("list_invoices", "ok")] > 0 and by_outcome[("get_invoice", "not_found")] > 0, by_outcome
    assert ("apply_payment", "overpayment") in by_outcome and ("create_invoice", "invalid_params") in by_outcome
    (tenant,) = results("Rejections: tenant quotas vs global limits", "A")
    assert float(tenant["value"][1]) > 0
    reasons = {r["metric"]["reason"] for r in results("Rejections per second by reason")}
    assert reasons == {"rate_limited", "overloaded", "timeout", "tenant_rate_limited", "tenant_overloaded"}
    (mean_render,) = results("Document render time", "C")
    assert float(mean_render["value"][1]) > 0
    (p99,) = results("Tool call latency p50 / p95 / p99", "C")
    assert 0 < float(p99["value"][1]) <= 30
    states = {r["metric"]["state"]: float(r["value"][1]) for r in results("Database pool connections")}
    assert set(states) == {"idle", "in_use", "max"} and states["max"] > 0
    versions = results("Build version per replica")
    assert len(versions) == 1 and versions[0]["metric"]["version"], versions
    (drops,) = results("Recording drops per second")
    assert float(drops["value"][1]) == 0


def test_every_alert_expression_returns_data(prometheus):
    empty = []
    for alert in _alerts():
        m = COMPARISON.match(alert["expr"])
        series, op, threshold = m["series"], m["op"], m["threshold"]
        if not prometheus.query(series):
            empty.append(f"{alert['alert']}: {series}")
            continue
        # The alert's own comparison, as 0/1 per series: it parses and applies to this series.
        verdicts = prometheus.query(f"({series}) {op} bool {threshold}")
        assert verdicts and {r["value"][1] for r in verdicts} <= {"0", "1"}, (alert["alert"], verdicts)
        prometheus.query(alert["expr"])  # and the alert's expression as written evaluates
    assert not empty, "alert expressions with no data:\n" + "\n".join(empty)


def test_nomad_scaling_queries_return_data(prometheus):
    for query in _scaling_queries():
        assert f'job="{JOB}"' in query, query
        (result,) = prometheus.query(query)
        assert float(result["value"][1]) >= 0, (query, result)
