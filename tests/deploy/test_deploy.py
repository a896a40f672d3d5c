"""The deployment files agree with the binary: the Nomad job parses and names the port, paths,
environment variables and metrics the real server uses; the Dockerfile is hadolint-clean and
its dependency stage gives cargo a manifest it accepts."""

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin"


def _duration_s(text: str) -> float:
    value, unit = re.fullmatch(r"(\d+)(ms|s|m)", text).groups()
    return int(value) * {"ms": 0.001, "s": 1, "m": 60}[unit]


@pytest.fixture(scope="module")
def doc():
    with open(ROOT / "nomad" / "tally.nomad.hcl") as f:
        return hcl2.load(f)


@pytest.fixture(scope="module")
def job(doc):
    (jobs,) = doc["job"]
    ((name, body),) = jobs.items()
    assert name.strip('"') == "tally-staging"
    return body


def _one(block):
    return block[0] if isinstance(block, list) else block


def _group(job):
    (groups,) = job["group"]
    ((_, group),) = groups.items()
    return group


def _tasks(group):
    return {name.strip('"'): body for t in group["task"] for name, body in t.items()}


def _strip(value):
    return value.strip('"') if isinstance(value, str) else value


def test_job_has_the_stanzas_a_staging_service_needs(doc, job):
    group = _group(job)
    assert _strip(job["type"]) == "service"
    variables = {name.strip('"'): body for v in doc["variable"] for name, body in v.items()}
    count = group["count"]
    assert (count == "${var.replicas}" and variables["replicas"]["default"] >= 2) or int(count) >= 2
    update = _one(group["update"])
    assert update["max_parallel"] == 1 and update["canary"] >= 1 and update["auto_revert"] is True
    assert _strip(update["health_check"]) == "checks"
    assert _one(group["restart"])["attempts"] >= 1
    tasks = _tasks(group)
    assert _strip(tasks["tally"]["driver"]) == "docker"
    migrate = tasks["migrate"]
    assert _strip(_one(migrate["lifecycle"])["hook"]) == "prestart"
    assert [_strip(a) for a in _one(migrate["config"])["args"]] == ["migrate"]
    resources = _one(tasks["tally"]["resources"])
    assert resources["cpu"] > 0 and resources["memory"] > 0
    scaling = _one(group["scaling"])
    assert scaling["min"] >= 2 and scaling["max"] > scaling["min"]


def test_port_paths_env_and_secret_match_the_binary(doc, job, tally_bin, server_url):
    group = _group(job)
    task = _tasks(group)["tally"]
    env = {k: _strip(v) for k, v in _one(task["env"]).items() if not k.startswith("__")}
    # The port the container listens on is the one the job maps and the service checks.
    (port,) = _one(group["network"])["port"]
    ((port_name, port_body),) = port.items()
    assert env["TALLY_BIND"].endswith(f":{port_body['to']}")
    service = _one(group["service"])
    assert _strip(service["port"]) == port_name.strip('"')
    check = _one(service["check"])
    assert _strip(check["type"]) == "http"
    base = server_url.removesuffix("/mcp")
    for path in (_strip(check["path"]), _strip(_one(service["meta"])["metrics_path"])):
        with urllib.request.urlopen(base + path, timeout=5) as res:
            assert res.status == 200, path
    # Every variable the job sets is one the binary reads (as `tally serve --help` lists them).
    help_text = subprocess.run([tally_bin, "serve", "--help"], capture_output=True, text=True, check=True).stdout
    known = set(re.findall(r"\[env: ([A-Z_]+)[=\]]", help_text))
    assert set(env) <= known, set(env) - known
    local_values = {k: v for block in doc.get("locals", []) for k, v in block.items() if not k.startswith("__")}
    # Each task reads DATABASE_URL from its own Variable: the owner's for migrations, the
    # server's own login for serving, which therefore must not migrate.
    variable_paths = {}
    for name, task_body in _tasks(group).items():
        template = _one(task_body["template"])
        data = template["data"]
        if m := re.fullmatch(r"\$\{local\.(\w+)\}", data):
            data = local_values[m.group(1)]
        assert "nomadVar" in data and "DATABASE_URL=" in data and template["env"] is True
        (variable_paths[name],) = re.findall(r'nomadVar "([^"]+)"', data)
    job_name = next(iter(doc["job"][0])).strip('"')
    group_name = next(iter(job["group"][0])).strip('"')
    for name, path in variable_paths.items():
        assert path == f"nomad/jobs/{job_name}/{group_name}/{name}", (name, path)
    assert env["TALLY_SKIP_MIGRATIONS"] == "true"
    assert "DATABASE_URL" in known
    # Draining ends before Nomad kills the task.
    assert _duration_s(_strip(task["kill_timeout"])) > _duration_s(env["TALLY_SHUTDOWN_GRACE"])
    assert _strip(task["kill_signal"]) == "SIGTERM"


def test_scaling_queries_name_metrics_the_server_exports(job, server_url):
    scaling = _one(_group(job)["scaling"])
    policy = _one(scaling["policy"])
    queries = [_strip(body["query"]) for c in policy["check"] for body in c.values()]
    used = {m for q in queries for m in re.findall(r"\b(tally_[a-z_]+)\b", q)}
    assert "tally_queue_depth" in used
    with urllib.request.urlopen(server_url.removesuffix("/mcp") + "/metrics", timeout=5) as res:
        exported = set(re.findall(r"^# TYPE (tally_[a-z_]+) ", res.read().decode(), re.M))
    assert used <= exported, used - exported


def test_dockerfile_is_hadolint_clean():
    result = subprocess.run([str(VENV_BIN / "hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_dependency_stage_gives_cargo_a_valid_manifest():
    """Replays the builder's first COPY and RUN (up to its cargo build) in an empty directory,
    then runs that cargo build until cargo has accepted the manifest and starts compiling."""
    lines = (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    work = Path(tempfile.mkdtemp())
    try:
        for line in lines:
            if line.startswith("COPY ") and "--from" not in line:
                *sources, _dest = shlex.split(line)[1:]
                for src in sources:
                    shutil.copy(ROOT / src, work / src)
            if line.startswith("RUN ") and "cargo build" in line:
                steps = [s.strip() for s in line[4:].split("&&")]
                setup = [s for s in steps[: next(i for i, s in enumerate(steps) if s.startswith("cargo build"))]]
                subprocess.run(" && ".join(setup), shell=True, cwd=work, check=True)
                build = next(s for s in steps if s.startswith("cargo build"))
                proc = subprocess.Popen(
                    shlex.split(build) + ["--offline"],
                    cwd=work,
                    stderr=subprocess.PIPE,
                    text=True,
                    env={**os.environ, "CARGO_TARGET_DIR": str(work / "target")},
                )
                first = ""
                for first in proc.stderr:
                    if first.strip().startswith(("Compiling", "Locking", "Downloading")) or "error" in first:
                        break
                proc.kill()
                proc.wait()
                assert first.strip().startswith("Compiling"), f"cargo refused the image's build context: {first}"
                return
        pytest.fail("no dependency stage found in the Dockerfile")
    finally:
        shutil.rmtree(work, ignore_errors=True)
