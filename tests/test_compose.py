"""Static checks of the docker compose deployment (no Docker engine needed).

docker-compose.yml is parsed with PyYAML; its YAML anchors and ``<<:`` merge
keys are resolved by the safe loader, so each service below carries the keys
it inherits from ``x-airflow-common``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
GITIGNORE = ROOT / ".gitignore"
DOCKERFILE = ROOT / "Dockerfile"
POSTGRES_INIT = ROOT / "deploy" / "postgres-init"

REQUIRED_SERVICES = {
    "postgres",
    "redis",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
}
AIRFLOW_SERVICES = sorted(s for s in REQUIRED_SERVICES if s.startswith("airflow-"))

# ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?msg}, ${VAR?msg},
# ${VAR:+alt}, ${VAR+alt}, and unbraced $VAR. `$$` is compose's escape for a
# literal `$` and is removed before matching.
BRACED_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")
BARE_VAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")

SECRET_KEY_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|(^|_)KEY$", re.IGNORECASE)
URI_CREDENTIALS = re.compile(r"://(?P<user>[^:/@\s]*):(?P<password>[^@\s]*)@")
MASK = "\x01"  # stands in for one ${...} so its ":", "-", "?" and spaces do not confuse URI parsing


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_text() -> str:
    assert COMPOSE_FILE.is_file(), f"missing {COMPOSE_FILE}"
    return COMPOSE_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict:
    data = yaml.safe_load(compose_text)
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return data


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    svcs = compose.get("services")
    assert isinstance(svcs, dict) and svcs, "no services defined"
    return svcs


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    assert ENV_EXAMPLE.is_file(), f"missing {ENV_EXAMPLE}"
    return parse_env_file(ENV_EXAMPLE.read_text(encoding="utf-8"))


def parse_env_file(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].strip()
        key, sep, value = line.partition("=")
        assert sep, f".env.example line {lineno} is not KEY=value: {raw!r}"
        key = key.strip()
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key), f"bad key on line {lineno}: {key!r}"
        values[key] = value.strip()
    return values


def interpolations(text: str) -> list[tuple[str, str | None]]:
    """(name, operator) for each interpolation in text; operator None = bare."""
    text = text.replace("$$", "")
    found = [(m.group(1), m.group(2)) for m in BRACED_VAR.finditer(text)]
    without_braced = BRACED_VAR.sub("", text)
    found += [(m.group(1), None) for m in BARE_VAR.finditer(without_braced)]
    return found


def masked(value: str) -> str:
    return BRACED_VAR.sub(MASK, value.replace("$$", ""))


def is_interpolated(value: str) -> bool:
    """True if value consists only of ${...} interpolations."""
    m = masked(value)
    return bool(m) and set(m) == {MASK}


def uri_passwords(value: str) -> list[str]:
    """Password part of every scheme://user:password@host in value (masked)."""
    return [c.group("password") for c in URI_CREDENTIALS.finditer(masked(value))]


def environment_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # ["KEY=value", ...] form
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


def depends_on_names(service: dict) -> list[str]:
    deps = service.get("depends_on") or []
    return list(deps.keys()) if isinstance(deps, dict) else list(deps)


def volume_entries(service: dict) -> list[tuple[str, str]]:
    """(source, target) for each volume of a service, short or long syntax."""
    entries = []
    for vol in service.get("volumes") or []:
        if isinstance(vol, dict):
            entries.append((str(vol.get("source", "")), str(vol.get("target", ""))))
        else:
            parts = str(vol).split(":")
            if len(parts) == 1:  # anonymous volume: only a container path
                entries.append(("", parts[0]))
            else:
                entries.append((parts[0], parts[1]))
    return entries


def is_bind_source(source: str) -> bool:
    return source.startswith((".", "/", "~", "$"))


def bind_mounts(service: dict) -> dict[str, str]:
    """container target -> host source (bind mounts only)."""
    return {t: s for s, t in volume_entries(service) if s and is_bind_source(s)}


def all_strings(node) -> list[tuple[str, str]]:
    """(key path, string) for every scalar string in a parsed YAML tree."""
    out: list[tuple[str, str]] = []

    def walk(value, path):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, f"{path}.{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, f"{path}[{i}]")
        elif isinstance(value, str):
            out.append((path, value))

    walk(node, "")
    return out


# --------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------


def test_required_services_exist(services):
    missing = REQUIRED_SERVICES - set(services)
    assert not missing, f"services missing from docker-compose.yml: {sorted(missing)}"


def test_common_anchor_is_merged_into_airflow_services(compose, compose_text):
    assert "x-airflow-common" in compose
    assert re.search(r"^x-airflow-common:\s*&airflow-common\b", compose_text, re.M), (
        "x-airflow-common must define the &airflow-common anchor"
    )
    assert compose_text.count("<<: *airflow-common\n") >= len(AIRFLOW_SERVICES)
    common = compose["x-airflow-common"]
    for name in AIRFLOW_SERVICES:
        svc = compose["services"][name]
        # Merged keys come from the anchor: same build/image/volumes.
        assert svc.get("build") == common.get("build"), name
        assert svc.get("image") == common.get("image"), name
        assert svc.get("volumes") == common.get("volumes"), name
        assert svc.get("env_file") == common.get("env_file"), name


def test_airflow_services_build_from_dockerfile(compose):
    common = compose["x-airflow-common"]
    build = common.get("build")
    context = build.get("context") if isinstance(build, dict) else build
    assert context == ".", "airflow services must be built from the repo root Dockerfile"
    assert DOCKERFILE.is_file(), "Dockerfile missing"
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    froms = re.findall(r"^\s*FROM\s+(\S+)", dockerfile, re.M | re.I)
    assert froms == ["apache/airflow:3.3.2-python3.11"], froms
    copied = " ".join(re.findall(r"^\s*COPY\s+(?:--\S+\s+)*(.+)$", dockerfile, re.M))
    for needed in ("pyproject.toml", "requirements.txt", "constraints.txt", "etl"):
        assert re.search(rf"(^|\s){re.escape(needed)}(\s|$)", copied), f"Dockerfile must COPY {needed}"
    install = " ".join(dockerfile.replace("\\\n", " ").split())
    assert re.search(r"pip install[^&]*-r\s+\S*requirements\.txt[^&]*-c\s+\S*constraints\.txt", install), (
        "Dockerfile must pip install -r requirements.txt -c constraints.txt"
    )
    assert re.search(r"pip install[^&]*--no-deps\s+/tmp/urdu-etl(\s|$)", install), "Dockerfile must install the package"
    # Requirements are baked in, not installed at every container start.
    env = environment_of(common)
    assert not env.get("_PIP_ADDITIONAL_REQUIREMENTS"), "use the Dockerfile, not _PIP_ADDITIONAL_REQUIREMENTS"


def test_airflow_environment(services):
    for name in AIRFLOW_SERVICES:
        env = environment_of(services[name])
        assert env.get("AIRFLOW__CORE__EXECUTOR") == "CeleryExecutor", name
        assert env.get("AIRFLOW__CORE__LOAD_EXAMPLES") == "false", name
        assert "PYTHONPATH" not in env, f"{name}: the image's installed package is imported, not a mounted etl/"
        assert env.get("URDU_ETL_HOME") == "/opt/airflow", name
        assert env.get("URDU_ETL_DATA_DIR") == "/opt/airflow/data", name
        assert env.get("URDU_ETL_SOURCES") == "/opt/airflow/config/sources.yaml", name
        # the compiled scans' cache sits in the writable data volume, shared by the containers
        assert env.get("NUMBA_CACHE_DIR", "").startswith("/opt/airflow/data/"), name
        assert "@redis:6379" in env.get("AIRFLOW__CELERY__BROKER_URL", ""), name
        assert "@postgres:5432/airflow" in env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", ""), name
        # Shared across components, else task tokens fail verification.
        assert env.get("AIRFLOW__API_AUTH__JWT_SECRET", "").startswith("${"), name
        assert env.get("AIRFLOW__CORE__FERNET_KEY", "").startswith("${"), name


def test_warehouse_connection(services):
    for name in AIRFLOW_SERVICES:
        uri = environment_of(services[name]).get("AIRFLOW_CONN_URDU_WAREHOUSE", "")
        assert uri.startswith("postgresql://"), f"{name}: {uri!r}"
        assert uri.endswith("@postgres:5432/warehouse"), f"{name}: {uri!r}"
        passwords = uri_passwords(uri)
        assert passwords == [MASK], f"{name}: password must be one ${{...}} interpolation"


def test_warehouse_database_init_script(services):
    mounts = bind_mounts(services["postgres"])
    source = mounts.get("/docker-entrypoint-initdb.d")
    assert source is not None, "postgres must mount deploy/postgres-init at /docker-entrypoint-initdb.d"
    assert (ROOT / source).resolve() == POSTGRES_INIT.resolve(), source
    scripts = sorted(POSTGRES_INIT.glob("*.sql")) + sorted(POSTGRES_INIT.glob("*.sh"))
    assert scripts, "no init script in deploy/postgres-init"
    sql = "\n".join(p.read_text(encoding="utf-8") for p in scripts)
    assert re.search(r"CREATE\s+DATABASE\s+\"?warehouse\"?", sql, re.I), "init script must create the warehouse DB"
    image = services["postgres"].get("image", "")
    assert re.fullmatch(r"postgres:1[56](\D.*)?", image), image


def test_depends_on_names_defined_services(services):
    checked = 0
    for name, svc in services.items():
        for dep in depends_on_names(svc):
            checked += 1
            assert dep in services, f"{name} depends on undefined service {dep!r}"
            assert dep != name, f"{name} depends on itself"
    assert checked, "no depends_on found at all"


def test_airflow_components_wait_for_init_and_backends(services):
    for name in AIRFLOW_SERVICES:
        deps = set(depends_on_names(services[name]))
        assert {"postgres", "redis"} <= deps, f"{name}: {deps}"
        if name not in {"airflow-init"}:
            assert "airflow-init" in deps, f"{name} must wait for airflow-init"
    init_deps = services["airflow-apiserver"]["depends_on"]["airflow-init"]
    assert init_deps.get("condition") == "service_completed_successfully"


def test_named_volumes_declared(compose, services):
    declared = set((compose.get("volumes") or {}).keys())
    used = set()
    for name, svc in services.items():
        for source, _target in volume_entries(svc):
            if source and not is_bind_source(source):
                used.add(source)
                assert source in declared, f"{name} uses undeclared volume {source!r}"
    assert "postgres-db-volume" in used, "postgres data must live in a named volume"


def compose_interpolations(compose: dict) -> list[tuple[str, str | None]]:
    # From parsed values, so examples in YAML comments are not counted.
    return [found for _path, value in all_strings(compose) for found in interpolations(value)]


def test_required_interpolations_defined_in_env_example(compose, env_example):
    found = compose_interpolations(compose)
    assert found, "no ${VAR} interpolation found"
    required = {name for name, op in found if op is None or "?" in op}
    missing = sorted(required - set(env_example))
    assert not missing, f"variables without default missing from .env.example: {missing}"
    for name in required:
        assert env_example[name], f".env.example gives {name} an empty value"


def test_secrets_are_required_interpolations(compose):
    # The secrets must fail fast when .env lacks them (${VAR:?msg}).
    ops = {}
    for name, op in compose_interpolations(compose):
        ops.setdefault(name, set()).add(op)
    for secret in (
        "POSTGRES_PASSWORD",
        "AIRFLOW_ADMIN_PASSWORD",
        "AIRFLOW_FERNET_KEY",
        "AIRFLOW_JWT_SECRET",
        "AIRFLOW_API_SECRET_KEY",
    ):
        assert secret in ops, f"{secret} is not used in docker-compose.yml"
        assert ops[secret] == {":?"}, f"{secret} must always be ${{{secret}:?message}}, got {ops[secret]}"


def test_no_literal_secrets_in_compose(compose):
    offenders = []
    for path, value in all_strings(compose):
        key = path.rsplit(".", 1)[-1]
        if SECRET_KEY_NAME.search(key) and value and not is_interpolated(value):
            offenders.append(f"{path}={value!r}")
        for password in uri_passwords(value):
            if password and set(password) != {MASK}:
                offenders.append(f"{path}: literal password in URI")
    assert not offenders, "literal secrets in docker-compose.yml:\n" + "\n".join(offenders)


def test_secret_checker_would_catch_literals():
    # Guard the two detectors used above against silently matching nothing.
    assert SECRET_KEY_NAME.search("POSTGRES_PASSWORD")
    assert SECRET_KEY_NAME.search("AIRFLOW__CORE__FERNET_KEY")
    assert not is_interpolated("airflow")
    assert not is_interpolated("${POSTGRES_PASSWORD:-airflow}x")
    assert is_interpolated("${POSTGRES_PASSWORD:?set it in .env}")
    assert uri_passwords("postgresql://airflow:airflow@postgres/airflow") == ["airflow"]
    assert uri_passwords("redis://:@redis:6379/0") == [""]
    assert uri_passwords("db+postgresql://${U:-airflow}:${P:?set P in .env}@postgres/airflow") == [MASK]
    assert uri_passwords("postgresql://${U:-airflow}:hunter2@postgres/warehouse") == ["hunter2"]


def test_env_example_has_only_placeholders(env_example):
    for name in (
        "POSTGRES_PASSWORD",
        "AIRFLOW_ADMIN_PASSWORD",
        "AIRFLOW_FERNET_KEY",
        "AIRFLOW_JWT_SECRET",
        "AIRFLOW_API_SECRET_KEY",
    ):
        assert name in env_example, f"{name} missing from .env.example"
        assert "change-me" in env_example[name], f"{name} in .env.example must be a placeholder"


def test_env_file_is_used(services):
    for name in AIRFLOW_SERVICES:
        env_file = services[name].get("env_file")
        files = (
            [env_file]
            if isinstance(env_file, str)
            else [e["path"] if isinstance(e, dict) else e for e in (env_file or [])]
        )
        assert ".env" in files, f"{name} must read env_file .env"


@pytest.mark.parametrize(
    "host_dir, target, must_exist",
    [
        ("dags", "/opt/airflow/dags", True),
        ("plugins", "/opt/airflow/plugins", True),
        ("config", "/opt/airflow/config", False),
        ("data", "/opt/airflow/data", False),
    ],
)
def test_bind_mounts(services, host_dir, target, must_exist):
    for name in AIRFLOW_SERVICES:
        mounts = bind_mounts(services[name])
        assert target in mounts, f"{name} does not mount {target}"
        source = mounts[target]
        assert not Path(source).is_absolute(), f"{name}: {source} must be relative to the repo"
        assert (ROOT / source).resolve() == (ROOT / host_dir).resolve(), f"{name}: {source} != ./{host_dir}"
    if must_exist:
        assert (ROOT / host_dir).is_dir(), f"./{host_dir} does not exist"


def test_data_mount_is_writable(services):
    for name in AIRFLOW_SERVICES:
        for vol in services[name]["volumes"]:
            if isinstance(vol, str) and vol.split(":")[1:2] == ["/opt/airflow/data"]:
                assert not vol.endswith(":ro"), f"{name}: data mount must be writable"
                break
        else:
            pytest.fail(f"{name}: no short-syntax data mount")


def test_worker_is_scalable(services):
    """`docker compose up --scale airflow-worker=N` needs replicas that differ: compose names each
    container itself, and each worker's Celery node name (celery@$HOSTNAME, which its healthcheck
    pings) comes from the container's own host name."""
    worker = services["airflow-worker"]
    assert worker.get("command") == "celery worker"
    assert "container_name" not in worker, "container_name prevents --scale"
    # A fixed host name would give every replica the same Celery node name (and the same TI hostname).
    assert "hostname" not in worker, "a fixed hostname makes the replicas one Celery node"
    assert "--celery-hostname" not in str(worker.get("command")), "a fixed Celery node name clashes between replicas"
    assert "celery@$${HOSTNAME}" in str(worker.get("healthcheck", {}).get("test")), "healthcheck must ping its own node"
    for port in worker.get("ports") or []:
        # A fixed host port would clash between replicas.
        published = port.get("published") if isinstance(port, dict) else (str(port) if ":" in str(port) else None)
        assert not published, f"worker publishes a fixed host port: {port}"


def test_env_is_gitignored():
    assert GITIGNORE.is_file(), ".gitignore missing"
    lines = {line.strip() for line in GITIGNORE.read_text(encoding="utf-8").splitlines()}
    assert lines & {".env", "/.env"}, ".env must be git-ignored"
    assert not lines & {".env.example", "/.env.example", ".env*", ".env.*"}, ".env.example must stay committed"
    for pattern in (".venv/", "data/", ".airflow/", "__pycache__/", "*.pyc", ".pytest_cache/"):
        assert lines & {pattern, "/" + pattern, pattern.rstrip("/")}, f"{pattern} missing from .gitignore"
