"""Load for the cluster failure tests, and what it proves afterwards.

Workers run until stopped, each with its own user, connection and data
(matches it creates as the admin when it needs new ones, so no worker runs
out of (match, selection) pairs however long the test lasts):
- bettors place bets with an Idempotency-Key, each (match, selection) once;
  a 503, a 409 *_in_progress or a lost answer is retried with the same key
  and body until a final answer (bounded); after each acknowledged bet they
  read their own bet list and the match's bet list (read-your-writes);
- carters add items to their cart, read it back (every acknowledged item
  there), and check it out with an Idempotency-Key (retried like a bet);
- an admin creates matches of one team and reads that team's match list;
- cart readers only read one cart, to measure who is affected by a node's
  loss (the cart's slot says which master it needs).

Every request is recorded (op, worker, start and end in seconds since the
load started, status, problem code, or the exception). Stopping lets each
worker finish the key it is retrying, so that every request ends known.
Afterwards replay() sends every acknowledged key once more: a retry of an
answered request must get that answer back.
"""

import threading
import time
import uuid

import requests

from api_support import Api, future_date, unique_team

# How long a worker retries one key (a bet or a checkout) before it gives
# up; the failures take seconds, so this is far beyond them.
RETRY_S = 30
RETRY_PAUSE_S = 0.05
# Statuses after which the same key is tried again.
RETRY_CODES = {"bet_in_progress", "checkout_in_progress", "service_unavailable"}
# A pause between two actions of a worker: a steady load spread over the
# test, rather than a burst that ends before the failure does.
PACE_S = 0.02
# How many of a bettor's newest acknowledged bets its list's first page
# (limit 100) must show.
USER_PAGE_CHECKED = 50


class Attempt:
    __slots__ = ("op", "worker", "started", "ended", "status", "code", "error", "key")

    def __init__(self, op, worker, started, ended, status=None, code=None, error=None, key=None):
        self.op, self.worker, self.started, self.ended = op, worker, started, ended
        self.status, self.code, self.error, self.key = status, code, error, key

    @property
    def took(self):
        return self.ended - self.started

    def __repr__(self):
        what = self.error or f"{self.status}{' ' + self.code if self.code else ''}"
        return f"<{self.op} w{self.worker} {self.started:.2f}-{self.ended:.2f}s {what}>"


class Acked:
    """A bet the server acknowledged (201), by POST /v1/bets or a checkout."""

    __slots__ = ("bet_id", "user_id", "match_id", "selection", "stake", "key", "at", "via")

    def __init__(self, bet_id, user_id, match_id, selection, stake, key, at, via):
        self.bet_id, self.user_id, self.match_id, self.selection = bet_id, user_id, match_id, selection
        self.stake, self.key, self.at, self.via = stake, key, at, via

    def __repr__(self):
        return f"<bet {self.bet_id} u{self.user_id} m{self.match_id}/{self.selection} via {self.via}>"


class Load:
    def __init__(self, base_url, admin_token):
        self.base_url = base_url
        self.admin_token = admin_token
        self.t0 = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        self.attempts = []
        self.acked = []               # Acked
        self.acked_items = []         # (user_id, item_id, match_id, selection, at)
        self.checked_out = set()      # (user_id, item_id) placed by an acknowledged checkout
        self.answers_by_key = {}      # key -> [bet ids of its 201 answers]
        self.keyed = {}               # key -> (op, user, body or None, answer's bet ids, acknowledged at)
        self.ryw_violations = []
        self.crashes = []
        self.keys_unresolved = []     # (op, key): retried past RETRY_S
        self.matches_created = []     # by the admin worker

    # ------------------------------------------------------------ plumbing

    def now(self):
        return time.monotonic() - self.t0

    def at(self, monotonic):
        """A time.monotonic() value on this load's clock."""
        return monotonic - self.t0

    def _record(self, attempt):
        with self._lock:
            self.attempts.append(attempt)

    def _call(self, client_box, op, worker, fn, key=None):
        """fn(client) -> response; recorded. Returns (response or None, body)."""
        started = self.now()
        try:
            resp = fn(client_box[0])
        except requests.RequestException as exc:
            self._record(Attempt(op, worker, started, self.now(), error=f"{type(exc).__name__}: {exc}",
                                 key=key))
            # A broken keep-alive connection must not poison the next request.
            client_box[0].close()
            client_box[0] = Api(self.base_url, self.admin_token)
            return None, None
        body = None
        if resp.headers.get("Content-Type", "").startswith(("application/json", "application/problem+json")):
            try:
                body = resp.json()
            except ValueError:
                body = None
        code = body.get("code") if resp.status_code >= 400 and isinstance(body, dict) else None
        self._record(Attempt(op, worker, started, self.now(), resp.status_code, code, key=key))
        return resp, body

    def _start(self, target, *args):
        def run():
            client_box = [Api(self.base_url, self.admin_token)]
            try:
                target(client_box, *args)
            except BaseException:  # a bug in a worker: reported by stop(), never a hang
                import traceback
                with self._lock:
                    self.crashes.append(traceback.format_exc())
            finally:
                client_box[0].close()

        thread = threading.Thread(target=run, daemon=True)
        self._threads.append(thread)
        thread.start()

    def stopping(self):
        return self._stop.is_set()

    def _keyed(self, client_box, op, worker, key, fn):
        """Sends fn(client) under one Idempotency-Key until a final answer;
        returns (response, body) of the final answer, or (None, None)."""
        first = time.monotonic()
        while True:
            resp, body = self._call(client_box, op, worker, fn, key=key)
            retry = resp is None or (resp.status_code in (409, 503) and (body or {}).get("code") in RETRY_CODES)
            if not retry:
                return resp, body
            if time.monotonic() - first > RETRY_S:
                with self._lock:
                    self.keys_unresolved.append((op, key))
                return None, None
            time.sleep(RETRY_PAUSE_S)

    def _violation(self, what, items=()):
        """A read that missed an acknowledged write; `items`: the cart items
        it missed, as in acked_items (a crash may excuse those)."""
        with self._lock:
            self.ryw_violations.append({"at": round(self.now(), 3), "what": what, "items": list(items)})

    # ------------------------------------------------------------ workers

    def _pairs(self, client_box, worker):
        """(match, selection) pairs without end: a new match (created as the
        admin, recorded as "match_create") for every three."""
        while not self.stopping():
            body = {"team_1": unique_team("Load"), "team_2": unique_team("Away"), "date": future_date(days=20),
                    "odds": {"1": 2.10, "X": 3.25, "2": 3.60}}
            resp, match = self._call(client_box, "match_create", worker, lambda c: c.post(
                "/v1/matches", json=body, token=self.admin_token))
            if resp is None or resp.status_code != 201:
                time.sleep(PACE_S)
                continue
            for selection in ("1", "X", "2"):
                yield match, selection

    def bettor(self, user, stake=100):
        """user: conftest User (id, token, email). Places each (match,
        selection) once, until stopped."""
        worker = len(self._threads)

        def run(client_box):
            mine = []
            for match, selection in self._pairs(client_box, worker):
                if self.stopping():
                    return
                time.sleep(PACE_S)
                key = f"cluster-bet-{uuid.uuid4()}"
                body = {"user_id": user.id, "match_id": match["id"], "selection": selection, "stake": stake}
                resp, answer = self._keyed(client_box, "bet", worker, key, lambda c: c.post(
                    "/v1/bets", json=body, token=user.token, headers={"Idempotency-Key": key}))
                if resp is None or resp.status_code != 201:
                    continue
                bet = Acked(answer["id"], user.id, match["id"], selection, stake, key, self.now(), "bet")
                mine.append(bet.bet_id)
                with self._lock:
                    self.acked.append(bet)
                    self.answers_by_key.setdefault(key, []).append(answer["id"])
                    self.keyed[key] = ("bet", user, body, (answer["id"],), bet.at)
                # Read-your-writes: the user's own list (page 1 of 100, newest
                # first, holds the newest acknowledged bets: room is left for
                # up to 50 bets committed without an answer), and the match's.
                resp, page = self._call(client_box, "read_user_bets", worker, lambda c: c.get(
                    f"/v1/users/{user.id}/bets?limit=100", token=user.token))
                if resp is not None and resp.status_code == 200:
                    missing = set(mine[-USER_PAGE_CHECKED:]) - {b["id"] for b in page["items"]}
                    if missing or page["total"] < len(mine):
                        self._violation(f"user {user.id}'s list lacks acknowledged bets {sorted(missing)} "
                                        f"(total {page['total']}, {len(mine)} acknowledged)")
                resp, page = self._call(client_box, "read_match_bets", worker, lambda c: c.get(
                    f"/v1/bets?match_id={match['id']}&limit=100", token=self.admin_token))
                if resp is not None and resp.status_code == 200:
                    if bet.bet_id not in {b["id"] for b in page["items"]}:
                        self._violation(f"match {match['id']}'s bet list lacks acknowledged bet {bet.bet_id}")

        self._start(run)

    def carter(self, user, items_per_cart=2, stake=100):
        """Fills the cart with items_per_cart items (each (match, selection)
        once), reads it back, checks it out; again, until stopped."""
        worker = len(self._threads)

        def run(client_box):
            pending = {}  # item_id -> (match_id, selection, acknowledged at): not checked out yet
            pairs = self._pairs(client_box, worker)
            while not self.stopping():
                time.sleep(PACE_S)
                for match, selection in [next(pairs, (None, None)) for _ in range(items_per_cart)]:
                    if match is None:
                        return
                    resp, item = self._call(client_box, "cart_add", worker, lambda c: c.post(
                        f"/v1/users/{user.id}/cart/items", token=user.token,
                        json={"match_id": match["id"], "selection": selection, "stake": stake}))
                    if resp is not None and resp.status_code == 201:
                        acked_at = self.now()
                        pending[item["item_id"]] = (match["id"], selection, acked_at)
                        with self._lock:
                            self.acked_items.append((user.id, item["item_id"], match["id"], selection, acked_at))
                resp, cart = self._call(client_box, "cart_read", worker, lambda c: c.get(
                    f"/v1/users/{user.id}/cart", token=user.token))
                if resp is not None and resp.status_code == 200:
                    missing = set(pending) - {i["item_id"] for i in cart["items"]}
                    if missing:
                        self._violation(f"user {user.id}'s cart lacks acknowledged items {sorted(missing)}",
                                        [(user.id, i, *pending[i]) for i in sorted(missing)])
                if not pending:
                    continue
                key = f"cluster-checkout-{uuid.uuid4()}"
                resp, answer = self._keyed(client_box, "checkout", worker, key, lambda c: c.post(
                    f"/v1/users/{user.id}/cart/checkout", token=user.token, headers={"Idempotency-Key": key}))
                if resp is None or resp.status_code != 201:
                    continue
                placed = {(b["match_id"], b["selection"]): b for b in answer["bets"]}
                with self._lock:
                    for bet in answer["bets"]:
                        self.acked.append(Acked(bet["id"], user.id, bet["match_id"], bet["selection"],
                                                bet["stake"], key, self.now(), "checkout"))
                    ids = tuple(sorted(b["id"] for b in answer["bets"]))
                    self.answers_by_key.setdefault(key, []).append(ids)
                    self.keyed[key] = ("checkout", user, None, ids, self.now())
                    for item_id, (match_id, selection, _) in list(pending.items()):
                        if (match_id, selection) in placed:
                            self.checked_out.add((user.id, item_id))
                            del pending[item_id]
                if pending:
                    self._violation(f"user {user.id}'s checkout did not place acknowledged items {pending}",
                                    [(user.id, i, *v) for i, v in sorted(pending.items())])

        self._start(run)

    def match_maker(self, team=None, most=90):
        """The admin: creates matches of `team` (up to `most`: the list is read
        in one page of 100) and reads the team's match list after each, which
        must hold every match created so far; then keeps reading it."""
        worker = len(self._threads)
        team = team or unique_team("Cluster")
        self.team = team

        def run(client_box):
            created = []
            while not self.stopping():
                time.sleep(PACE_S)
                if len(created) < most:
                    body = {"team_1": team, "team_2": unique_team("Away"), "date": future_date(days=len(created) + 1),
                            "odds": {"1": 2.10, "X": 3.25, "2": 3.60}}
                    resp, match = self._call(client_box, "match_create", worker, lambda c: c.post(
                        "/v1/matches", json=body, token=self.admin_token))
                    if resp is not None and resp.status_code == 201:
                        created.append(match["id"])
                        with self._lock:
                            self.matches_created.append(match["id"])
                resp, page = self._call(client_box, "read_matches", worker, lambda c: c.get(
                    "/v1/matches", params={"team": team, "limit": 100}))
                if resp is not None and resp.status_code == 200:
                    missing = set(created) - {m["id"] for m in page["items"]}
                    if missing:
                        self._violation(f"the match list of {team!r} lacks created matches {sorted(missing)}")

        self._start(run)

    def cart_reader(self, user, op):
        """GET of one user's cart in a loop, recorded under `op`."""
        worker = len(self._threads)

        def run(client_box):
            while not self.stopping():
                self._call(client_box, op, worker, lambda c: c.get(f"/v1/users/{user.id}/cart",
                                                                   token=user.token))
                time.sleep(0.005)

        self._start(run)

    # ------------------------------------------------------------ control

    def snapshot(self):
        with self._lock:
            return list(self.attempts)

    def wait_for(self, predicate, timeout_s, what):
        """Polls the attempts so far until predicate(attempts) holds."""
        deadline = time.monotonic() + timeout_s
        while True:
            assert not self.crashes, self.crashes[0]
            if predicate(self.snapshot()):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"load: timed out after {timeout_s}s waiting for {what}")
            time.sleep(0.05)

    def stop(self):
        """Stops the workers (each finishes the key it is retrying); every
        thread must end within RETRY_S plus a request's timeout."""
        self._stop.set()
        deadline = time.monotonic() + RETRY_S + 20
        for thread in self._threads:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
        alive = sum(t.is_alive() for t in self._threads)
        assert not alive, f"{alive} load workers still running (a request hung?)"
        assert not self.crashes, self.crashes[0]
        return self.snapshot()


def replay(load):
    """After stop(): every acknowledged key sent once more, with its body.
    Returns [(key, op, user, acknowledged at, status, code, same)] where
    `same` says the answer was the first one (201, the same bets)."""
    client = Api(load.base_url, load.admin_token)
    out = []
    try:
        for key, (op, user, body, ids, at) in list(load.keyed.items()):
            headers = {"Idempotency-Key": key}
            if op == "bet":
                resp = client.post("/v1/bets", json=body, token=user.token, headers=headers)
                got = (resp.json()["id"],) if resp.status_code == 201 else None
            else:
                resp = client.post(f"/v1/users/{user.id}/cart/checkout", token=user.token, headers=headers)
                got = tuple(sorted(b["id"] for b in resp.json()["bets"])) if resp.status_code == 201 else None
            code = resp.json().get("code") if resp.status_code >= 400 else None
            out.append((key, op, user, at, resp.status_code, code, got == ids))
    finally:
        client.close()
    return out


def count_ops(attempts, op, after=0.0):
    return sum(1 for a in attempts if a.op == op and a.started >= after)


def summarize(attempts):
    """{op: {status or error: count}}."""
    out = {}
    for a in attempts:
        key = a.error.split(":")[0] if a.error else f"{a.status}{' ' + a.code if a.code else ''}"
        out.setdefault(a.op, {}).setdefault(key, 0)
        out[a.op][key] += 1
    return out


def window(attempts, predicate):
    """(first start, last end, count) of the attempts matching predicate, or None."""
    hits = [a for a in attempts if predicate(a)]
    if not hits:
        return None
    return min(a.started for a in hits), max(a.ended for a in hits), len(hits)
