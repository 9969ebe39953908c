"""The Debian package, judged by Debian's own tools and then used as an operator would.

In file order (pytest keeps it): lintian; the contents; `dpkg -i`; the system
user, the admin token and the conffile it set up; `systemd-analyze verify` of
the unit; the installed binary serving the API as the packaged user against the
test databases; a reinstall that keeps an edited conffile and the token; then
`dpkg -r` and `dpkg -P`.

Needs root (it installs the package on this machine: whatever betsdb package
was installed before is purged first) and:
  BETSDB_TEST_DEB            the .deb to test (scripts/package makes it)
  BETSDB_TEST_DATABASE_URL   an empty database for the packaged server
  BETSDB_TEST_REDIS_URL      a Redis database for it
"""

import grp
import os
import pwd
import re
import signal
import socket
import stat
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
UNIT = Path("/lib/systemd/system/betsdb.service")
ENV_FILE = Path("/etc/betsdb/betsdb.env")
SECRETS = Path("/etc/betsdb/secrets.env")
BINARY = Path("/usr/bin/betsdb")
# As systemd's User=betsdb: that user, its groups, no privileges. (runuser
# would stay the parent of the process.)
AS_BETSDB = ["/usr/bin/setpriv", "--reuid=betsdb", "--regid=betsdb", "--init-groups",
             "--no-new-privs", "--"]


def _env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set (see this file's docstring)")
    return value


def run(*args, check=True, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def package_status():
    result = run("dpkg-query", "-W", "-f=${Status}", "betsdb", check=False)
    return result.stdout.strip() if result.returncode == 0 else None


@pytest.fixture(scope="module")
def deb():
    if os.geteuid() != 0:
        pytest.fail("the package tests install the package: run them as root")
    path = Path(_env("BETSDB_TEST_DEB"))
    assert path.name.startswith("betsdb_") and path.name.endswith("_amd64.deb"), path.name
    return path


@pytest.fixture(scope="module")
def installed(deb):
    if package_status() is not None:
        run("dpkg", "--purge", "betsdb")
    run("dpkg", "--install", str(deb))
    return deb


def test_lintian_reports_no_error_and_no_warning(deb):
    result = run("lintian", "--fail-on", "error,warning", "--info", str(deb), check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_depends_only_on_the_shared_libraries_dpkg_shlibdeps_found(deb):
    depends = run("dpkg-deb", "--field", str(deb), "Depends").stdout.strip()
    packages = [d.strip().split(" ")[0] for d in depends.split(",")]
    assert packages, "no dependencies at all: dpkg-shlibdeps did not run"
    assert all(p.startswith("lib") for p in packages), depends
    for library in ("libpq5", "libhiredis0.14", "libsodium23"):
        assert library in packages, depends


def test_it_holds_the_binary_unit_settings_man_page_and_migrations(deb):
    listing = run("dpkg-deb", "--contents", str(deb)).stdout
    files = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
    for path in ("/usr/bin/betsdb", str(UNIT), str(ENV_FILE), "/usr/share/man/man1/betsdb.1.gz",
                 "/usr/share/doc/betsdb/copyright", "/usr/share/doc/betsdb/changelog.gz"):
        assert path in files, f"{path} missing from the package"
    migrations = {p.name for p in (ROOT / "db" / "migrations").glob("*.sql")}
    packaged = {Path(f).name for f in files if f.startswith("/usr/share/betsdb/migrations/") and f.endswith(".sql")}
    assert packaged == migrations
    assert SECRETS.as_posix() not in files, "the admin token must not ship in the package"
    conffiles = run("dpkg-deb", "--info", str(deb), "conffiles").stdout.split()
    assert conffiles == [str(ENV_FILE)]


def test_install_makes_a_system_user_without_a_login(installed):
    assert package_status() == "install ok installed"
    user = pwd.getpwnam("betsdb")
    assert user.pw_uid < 1000, "not a system user"
    assert user.pw_shell in ("/usr/sbin/nologin", "/bin/false")
    assert grp.getgrgid(user.pw_gid).gr_name == "betsdb"


def test_install_makes_a_random_admin_token_readable_by_root_and_betsdb_only(installed):
    info = SECRETS.stat()
    assert stat.S_IMODE(info.st_mode) == 0o640
    assert info.st_uid == 0 and grp.getgrgid(info.st_gid).gr_name == "betsdb"
    token = read_admin_token()
    assert len(token) >= 32 and re.fullmatch(r"[0-9a-f]+", token)


def test_install_leaves_the_service_disabled_until_a_database_is_configured(installed):
    wants = Path("/etc/systemd/system/multi-user.target.wants/betsdb.service")
    assert not wants.exists()
    assert BINARY.exists() and os.access(BINARY, os.X_OK)
    assert run(str(BINARY), "version").stdout.strip().startswith("betsdb ")


def test_systemd_analyze_verify_accepts_the_unit(installed):
    result = run("systemd-analyze", "verify", str(UNIT), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_the_unit_runs_betsdb_hardened_under_its_own_user(installed):
    unit = UNIT.read_text()
    for setting in ("User=betsdb", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                    "ProtectHome=yes", "PrivateDevices=yes", "CapabilityBoundingSet=\n",
                    f"EnvironmentFile={ENV_FILE}", f"EnvironmentFile=-{SECRETS}",
                    f"ExecStart={BINARY} serve"):
        assert setting in unit, f"{setting!r} missing from the unit"
    exposure = run("systemd-analyze", "security", "--offline=yes", str(UNIT), check=False).stdout
    level = re.search(r"Overall exposure level for \S+: ([0-9.]+)", exposure)
    assert level and float(level.group(1)) <= 2.0, exposure[-500:]


def read_admin_token():
    match = re.search(r"^BETSDB_ADMIN_TOKEN=(\S+)$", SECRETS.read_text(), re.M)
    assert match, "no BETSDB_ADMIN_TOKEN in the secrets file"
    return match.group(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def packaged_server(installed, tmp_path):
    """The installed binary as the betsdb user, with the installed settings
    and token (as the unit reads them) and the test databases."""
    port = free_port()
    overrides = {
        "BETSDB_LISTEN": f"127.0.0.1:{port}",
        "BETSDB_DATABASE_URL": _env("BETSDB_TEST_DATABASE_URL"),
        "BETSDB_REDIS_URL": _env("BETSDB_TEST_REDIS_URL"),
        "BETSDB_THREADS": "2",
    }
    exports = " ".join(f"{k}='{v}'" for k, v in overrides.items())
    script = f"set -a; . {ENV_FILE}; . {SECRETS}; {exports}; set +a; exec {BINARY} serve"
    log = tmp_path / "packaged-server.log"
    with open(log, "w") as out:
        process = subprocess.Popen(AS_BETSDB + ["/bin/sh", "-c", script],
                                   stdout=out, stderr=subprocess.STDOUT, env={"PATH": "/usr/bin:/bin"})
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{base}/readyz", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the packaged betsdb did not become ready:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    yield process, base
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_the_installed_binary_serves_the_api_as_the_packaged_user(packaged_server):
    process, base = packaged_server
    # setpriv execs the shell, which execs betsdb: the pid is betsdb's.
    status = Path(f"/proc/{process.pid}/status").read_text()
    uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
    assert uid == pwd.getpwnam("betsdb").pw_uid
    assert Path(f"/proc/{process.pid}/exe").resolve() == BINARY

    admin = {"Authorization": f"Bearer {read_admin_token()}"}
    tag = uuid.uuid4().hex[:10]
    user = requests.post(f"{base}/v1/users", headers=admin, timeout=10,
                         json={"email": f"pkg-{tag}@example.com", "name": "Package Tester"})
    assert user.status_code == 201, user.text
    user_id, bettor = user.json()["id"], {"Authorization": f"Bearer {user.json()['token']}"}
    deposit = requests.post(f"{base}/v1/users/{user_id}/deposits", headers=admin, timeout=10,
                            json={"amount": 10000})
    assert deposit.status_code == 201, deposit.text
    match = requests.post(f"{base}/v1/matches", headers=admin, timeout=10,
                          json={"team_1": f"Home {tag}", "team_2": f"Away {tag}",
                                "date": "2099-06-01T18:00:00Z", "odds": {"1": 2.5, "X": 3.1, "2": 2.8}})
    assert match.status_code == 201, match.text
    bet = requests.post(f"{base}/v1/bets", headers=bettor, timeout=10,
                        json={"user_id": user_id, "match_id": match.json()["id"],
                              "selection": "1", "stake": 2500})
    assert bet.status_code == 201, bet.text
    balance = requests.get(f"{base}/v1/users/{user_id}", headers=bettor, timeout=10).json()["balance"]
    assert balance == 7500
    page = requests.get(f"{base}/", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]

    check = run(*AS_BETSDB, str(BINARY), "check",
                f"--database-url={_env('BETSDB_TEST_DATABASE_URL')}", check=False)
    assert check.returncode == 0, check.stdout + check.stderr

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0


def test_a_reinstall_keeps_the_edited_settings_and_the_token(installed):
    token = read_admin_token()
    edited = ENV_FILE.read_text() + "BETSDB_LOG_LEVEL=warn\n"
    ENV_FILE.write_text(edited)
    run("dpkg", "--force-confold", "--install", str(installed))
    assert ENV_FILE.read_text() == edited
    assert read_admin_token() == token


def test_remove_takes_the_program_and_keeps_the_settings(installed):
    run("dpkg", "--remove", "betsdb")
    assert package_status() == "deinstall ok config-files"
    assert not BINARY.exists() and not UNIT.exists()
    assert ENV_FILE.exists() and SECRETS.exists()


def test_purge_leaves_nothing_in_etc(installed):
    run("dpkg", "--purge", "betsdb")
    assert package_status() is None
    assert not Path("/etc/betsdb").exists()
