"""Helpers for the responsible-gambling tests (API.md Part 2, "Responsible
gambling"; the server's decisions where the contract is silent are in the
issue 21 design: the limits' wire shape, the pending rules, who may read,
the exclusion periods and where the server keeps its clock-driven state).

There is no clock override in the server, so the tests move time with SQL
on the test database, as the design allows:
- a pending limit change is made due by moving effective_at into the past;
- a user's deposits and stakes are aged by moving their ledger rows (and
  the user's staked_at / deposited_at, so the rows keep their order);
- an exclusion or time-out is ended by moving its end into the past.
"""

import calendar
import datetime as dt

from account_support import parse_time
from api_support import describe, expect_json, expect_problem

KINDS = ("deposit", "stake")
PERIODS = ("day", "week", "month")
LIMITS_KEYS = {"deposit", "stake", "pending", "self_excluded_until", "timeout_until"}
PENDING_KEYS = {"kind", "period", "amount", "effective_at"}

# "each an integer 0 .. 1000000000000 (cents) or null".
MAX_LIMIT = 10**12
# Raising or removing a limit applies 24 h later.
PENDING_DELAY = dt.timedelta(hours=24)
# How far a server-made time may be from what this machine expects: the
# request's own duration plus a loaded machine (the design's "within a minute").
CLOCK_SLACK = dt.timedelta(minutes=1)

# Self-exclusion periods, in calendar months.
EXCLUSION_MONTHS = {"6m": 6, "1y": 12, "5y": 60}
MIN_TIMEOUT_HOURS = 24
MAX_TIMEOUT_HOURS = 1008

# Rolling windows: day = 24 h, week = 7 days, month = 30 days.
WINDOWS = {"day": dt.timedelta(hours=24), "week": dt.timedelta(days=7), "month": dt.timedelta(days=30)}


# --------------------------------------------------------------------------
# Routes and requests
# --------------------------------------------------------------------------

def limits_url(user_id):
    return f"/v1/users/{user_id}/limits"


def self_exclusion_url(user_id):
    return f"/v1/users/{user_id}/self-exclusion"


def timeout_url(user_id):
    return f"/v1/users/{user_id}/timeout"


def no_limits():
    """What GET answers for a user who never set anything."""
    return {"deposit": {p: None for p in PERIODS}, "stake": {p: None for p in PERIODS},
            "pending": [], "self_excluded_until": None, "timeout_until": None}


def limits_of(**given):
    """no_limits() with some limits set: limits_of(stake={"day": 1000}, pending=[...])."""
    body = no_limits()
    for key, value in given.items():
        if key in KINDS:
            body[key].update(value)
        else:
            body[key] = value
    return body


def expect_limits(resp, status=200):
    """A limits body of the design's shape (GET, or PUT's 200); returns it."""
    body = expect_json(resp, status)
    assert set(body) == LIMITS_KEYS, describe(resp)
    for kind in KINDS:
        assert isinstance(body[kind], dict) and set(body[kind]) == set(PERIODS), describe(resp)
        for value in body[kind].values():
            assert value is None or (type(value) is int and 0 <= value <= MAX_LIMIT), describe(resp)
    assert isinstance(body["pending"], list), describe(resp)
    for change in body["pending"]:
        assert isinstance(change, dict) and set(change) == PENDING_KEYS, describe(resp)
        assert change["kind"] in KINDS and change["period"] in PERIODS, describe(resp)
        assert change["amount"] is None or type(change["amount"]) is int, describe(resp)
        parse_time(change["effective_at"])
    order = [(parse_time(c["effective_at"]), KINDS.index(c["kind"]), PERIODS.index(c["period"]))
             for c in body["pending"]]
    assert order == sorted(order), f"pending not ordered by effective_at, kind, period: {describe(resp)}"
    for key in ("self_excluded_until", "timeout_until"):
        if body[key] is not None:
            parse_time(body[key])
    return body


def get_limits(api, user, token=None):
    """GET the limits (the owner's token unless `token`), 200 expected."""
    return expect_limits(api.get(limits_url(user.id), token=token or user.token))


def put_limits(api, user, body=None, token=None, raw=None):
    if raw is not None:
        return api.put(limits_url(user.id), body=raw, token=token or user.token)
    return api.put(limits_url(user.id), json=body, token=token or user.token)


def set_limits(api, user, body):
    """PUT as the owner, 200 expected; returns the limits it answered, after
    checking that a GET right after reads the same."""
    answered = expect_limits(put_limits(api, user, body))
    assert get_limits(api, user) == answered
    return answered


def self_exclude(api, user, period, token=None):
    return api.post(self_exclusion_url(user.id), json={"period": period}, token=token or user.token)


def time_out(api, user, hours, token=None):
    return api.post(timeout_url(user.id), json={"hours": hours}, token=token or user.token)


def deposit_req(api, admin_token, user, amount):
    return api.post(f"/v1/users/{user.id}/deposits", json={"amount": amount}, token=admin_token)


def acca_req(api, user, matches, stake, selection="1"):
    """An accumulator on one leg per match (all on `selection`)."""
    body = {"user_id": user.id, "legs": [{"match_id": m["id"], "selection": selection} for m in matches],
            "stake": stake}
    return api.post("/v1/bets", json=body, token=user.token)


# --------------------------------------------------------------------------
# Times
# --------------------------------------------------------------------------

def now_utc():
    return dt.datetime.now(dt.timezone.utc)


def add_months(when, months):
    """Calendar months, the day clamped to the month's end (as PostgreSQL's
    timestamptz + interval 'N months' does)."""
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def expect_between(value, low, high, what):
    """`value` (RFC 3339) is within [low - CLOCK_SLACK, high + CLOCK_SLACK]."""
    when = parse_time(value)
    assert low - CLOCK_SLACK <= when <= high + CLOCK_SLACK, \
        f"{what} {value} is not within {low.isoformat()} .. {high.isoformat()} (+- {CLOCK_SLACK})"
    return when


# --------------------------------------------------------------------------
# Problems
# --------------------------------------------------------------------------

def expect_self_excluded(resp, until=None, status=403):
    """403 (or 409 for a shorter exclusion) self_excluded; with `until` (the
    RFC 3339 end), the detail names its date ("detail says until when")."""
    problem = expect_problem(resp, status, "self_excluded")
    if until is not None:
        assert until[:10] in problem["detail"], f"detail does not say until when ({until}): {describe(resp)}"
    return problem


def expect_stake_limit(resp):
    return expect_problem(resp, 422, "stake_limit_exceeded")


def expect_deposit_limit(resp):
    return expect_problem(resp, 422, "deposit_limit_exceeded")


# --------------------------------------------------------------------------
# SQL: the design's schema (db/migrations/008_responsible_gambling.sql)
# --------------------------------------------------------------------------

class LimitsDb:
    """Moves a user's clock-driven state with SQL, and reads it back.
    `db` is conftest's Db (autocommit, so every statement is seen at once)."""

    def __init__(self, db, redis):
        self.db = db
        # A pause also closes the user's cart in Redis until it ends
        # (cart:{<id>}:paused, holding the end): what moves the pause's end
        # here moves that key with it.
        self.redis = redis
        self.limits_table = db._find_table({"user_id", "kind", "period", "effective_at", "amount"},
                                           "user_limits")
        self.users = db.users_table
        self.ledger = db.ledger_table

    def limit_rows(self, user_id):
        """Every row of the user's limits history, as stored (to prove a
        refused write stored nothing)."""
        return self.db.query(
            f"SELECT kind, period, effective_at, amount FROM {self.limits_table} "
            f"WHERE user_id = %s ORDER BY effective_at, kind, period", (user_id,))

    def pending_rows(self, user_id):
        return self.db.scalar(
            f"SELECT count(*) FROM {self.limits_table} WHERE user_id = %s AND effective_at > now()", (user_id,))

    def make_pending_due(self, user_id):
        """Every pending change of the user becomes due (one second ago).

        The whole history of the user's limits moves back by the same amount,
        so the rows keep their order: moving only the pending rows to
        now() - 1 s (the design's one-liner) would put a raise *before* a
        limit set less than a second earlier, and the older row would then
        never be the newest one in force."""
        moved = self.db.query(
            f"""
            UPDATE {self.limits_table} t
               SET effective_at = t.effective_at - s.shift
              FROM (SELECT max(effective_at) - now() + interval '1 second' AS shift
                      FROM {self.limits_table} WHERE user_id = %s) s
             WHERE t.user_id = %s AND s.shift > interval '0'
            RETURNING t.user_id
            """, (user_id, user_id))
        assert moved, f"user {user_id} has no pending limit change to make due"
        assert self.pending_rows(user_id) == 0

    def age_pending(self, user_id, interval):
        """Moves the user's pending changes `interval` (an SQL interval) back,
        still in the future: as if that much time had passed since they were made."""
        self.db.query(
            f"UPDATE {self.limits_table} SET effective_at = effective_at - %s::interval "
            f"WHERE user_id = %s AND effective_at > now() RETURNING user_id", (interval, user_id))

    def age_money(self, user_id, interval):
        """The user's deposits and stakes (the whole ledger, and the user's
        staked_at / deposited_at) become `interval` older."""
        self.db.query(
            f"UPDATE {self.ledger} SET created_at = created_at - %s::interval WHERE user_id = %s "
            f"RETURNING user_id", (interval, user_id))
        self.db.query(
            f"UPDATE {self.users} SET staked_at = staked_at - %s::interval, "
            f"deposited_at = deposited_at - %s::interval WHERE id = %s RETURNING id",
            (interval, interval, user_id))

    @staticmethod
    def cart_pause_key(user_id):
        return f"cart:{{{user_id}}}:paused"

    def _reopen_cart_if_unpaused(self, user_id):
        row = self.exclusion_columns(user_id)
        if not any(until is not None and until > self.db.scalar("SELECT now()") for until in row):
            self.redis.delete(self.cart_pause_key(user_id))

    def end_self_exclusion(self, user_id):
        self.db.query(f"UPDATE {self.users} SET self_excluded_until = now() - interval '1 second' "
                      f"WHERE id = %s RETURNING id", (user_id,))
        self._reopen_cart_if_unpaused(user_id)

    def end_timeout(self, user_id):
        self.db.query(f"UPDATE {self.users} SET timeout_until = now() - interval '1 second' "
                      f"WHERE id = %s RETURNING id", (user_id,))
        self._reopen_cart_if_unpaused(user_id)

    def start_timeout(self, user_id, interval="1 hour"):
        """A time-out that runs from now on, set behind the API's back: it
        closes the cart but does not empty it, so a test can see that a
        refused cart write or checkout leaves the items there."""
        (until,) = self.db.query(f"UPDATE {self.users} SET timeout_until = now() + %s::interval "
                                 f"WHERE id = %s RETURNING timeout_until", (interval, user_id))[0]
        self.redis.set(self.cart_pause_key(user_id),
                       until.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                       pxat=int(until.timestamp() * 1000))

    def exclusion_columns(self, user_id):
        return self.db.query(f"SELECT self_excluded_until, timeout_until FROM {self.users} WHERE id = %s",
                             (user_id,))[0]

    def ledger_sum(self, user_id, kind):
        """The sum of the user's ledger rows of `kind` as positive cents."""
        return abs(self.db.scalar(
            f"SELECT coalesce(sum(amount), 0) FROM {self.ledger} WHERE user_id = %s AND kind = %s",
            (user_id, kind)))
