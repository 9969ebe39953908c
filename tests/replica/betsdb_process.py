"""A betsdb server and a private Redis for the replica tests."""

import os
import shutil
import subprocess
import time

import requests

from pg_pair import free_port

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def binary():
    path = os.environ.get("BETSDB_TEST_BINARY", os.path.join(ROOT, "build", "debug", "betsdb"))
    if not os.access(path, os.X_OK):
        raise AssertionError(f"no betsdb binary at {path} (set BETSDB_TEST_BINARY)")
    return path


class Redis:
    def __init__(self, home):
        self.dir = os.path.join(home, "redis")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        subprocess.run(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                        "--dir", self.dir, "--daemonize", "yes", "--save", "",
                        "--pidfile", os.path.join(self.dir, "redis.pid"),
                        "--logfile", os.path.join(self.dir, "redis.log")], check=True)
        for _ in range(200):
            ping = subprocess.run(["redis-cli", "-p", str(self.port), "ping"],
                                  capture_output=True, text=True)
            if ping.stdout.strip() == "PONG":
                return
            time.sleep(0.02)
        raise AssertionError("Redis did not start")

    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self):
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"],
                       capture_output=True)


class Betsdb:
    def __init__(self, home, database_url, redis_url, replica_url=None, threads=1):
        self.port = free_port()
        self.admin = "replica-admin-" + os.urandom(12).hex()
        self.log_path = os.path.join(home, f"betsdb-{self.port}.log")
        env = dict(os.environ, BETSDB_LISTEN=f"127.0.0.1:{self.port}",
                   BETSDB_DATABASE_URL=database_url, BETSDB_REDIS_URL=redis_url,
                   BETSDB_ADMIN_TOKEN=self.admin, BETSDB_THREADS=str(threads),
                   BETSDB_LOG_LEVEL="info", BETSDB_SIGNUP_RATE_LIMIT="0", BETSDB_SIGN_INS_PER_CLIENT="0")
        if replica_url:
            env["BETSDB_DATABASE_REPLICA_URL"] = replica_url
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen([binary(), "serve"], env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        self.http = requests.Session()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("betsdb exited: " + self.tail())
            try:
                if self.http.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        raise AssertionError("betsdb did not start: " + self.tail())

    def tail(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()[-4000:]

    def request(self, method, path, token=None, json=None, headers=None, timeout=30):
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        return self.http.request(method, self.base + path, json=json, headers=h, timeout=timeout)

    def admin_request(self, method, path, json=None):
        return self.request(method, path, token=self.admin, json=json)

    def metric(self, name, **labels):
        """The sum of the samples of `name` whose labels include `labels`."""
        text = self.http.get(self.base + "/metrics", timeout=10).text
        total = 0.0
        for line in text.splitlines():
            if not line.startswith(name) or line.startswith("#"):
                continue
            head, _, value = line.rpartition(" ")
            if head != name and not head.startswith(name + "{"):
                continue
            if all(f'{k}="{v}"' in head for k, v in labels.items()):
                total += float(value)
        return total

    def stop(self):
        """SIGTERM must end it cleanly, without sanitizer reports."""
        code = self.process.poll()
        if code is None:
            self.process.terminate()
            try:
                code = self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                code = "hung on SIGTERM"
        self.log.close()
        log = open(self.log_path).read()
        for report in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                       "WARNING: ThreadSanitizer"):
            assert report not in log, f"sanitizer report in {self.log_path}"
        assert code == 0, f"betsdb ended with {code}; see {self.log_path}"


def cleanup_dir(path):
    shutil.rmtree(path, ignore_errors=True)
