"""Cash-out (API.md Part 2, "Cash-out"): quotes (the exact amount for singles
and accumulators, won, void and moved legs, the default 5% margin and a
configured one; when no quote is available), cashing out against a quote (the
bet, the balance and a ledger row of kind cash_out), the refusals in their
order (quote_expired, already_settled, odds_changed), Idempotency-Key, what
settlement, exposure, lists and the summary make of a cashed-out bet, and the
races: cash-outs of one bet at once, a cash-out against an odds change, and a
cash-out against the settlement of the same bet (exactly one of them wins,
every time).

Expiry is simulated by deleting the quote's Redis key, except in one test
that waits (bounded) for a real expiry; one more waits (bounded) for a
match's date to pass.
"""

import datetime as dt
import math
import os
import subprocess
import time
import uuid
from fractions import Fraction

import pytest
import requests

from api_support import (
    Api,
    describe,
    expect_json,
    expect_problem,
    expect_timestamp,
    expect_validation_failed,
    future_date,
    is_positive_int,
)
from bet_support import (
    BET_KEYS,
    MAX_STAKE,
    MISSING_ID,
    PROCESS_START_S,
    free_port,
    poll_until,
    redis_env,
    required_env,
    run_concurrently,
    settle,
    user_balance,
)
from test_accumulators import (
    ACCA_KEYS,
    TEN_LEGS,
    TEN_LEGS_STAKE,
    F,
    bet_rows,
    exposure,
    expect_ledger,
    get_bet,
    leg_statuses,
    lg,
    make_match,
    place_acca,
    placed_acca,
    resume,
    summary,
    summary_delta,
    suspend,
    ten_leg_acca,
    user_bets,
)
from test_cli import betsdb, show
from trading_support import patched, place

QUOTE_KEYS = {"quote_id", "bet_id", "amount", "expires_at"}
# The server's configured margin: the default, 0.05.
MARGIN = Fraction(5, 100)
# "valid for 10 s"
QUOTE_TTL_MS = 10_000
# Slack for expires_at against this machine's clock (a server may write whole seconds).
CLOCK_SLACK_S = 2

# Cash-out racing the settlement of the same bet.
RACE_ROUNDS_SINGLE = 30
RACE_ROUNDS_ACCA = 20


# ==========================================================================
# Helpers
# ==========================================================================

def quote_path(bet_id):
    return f"/v1/bets/{bet_id}/cash-out/quote"


def cash_out_path(bet_id):
    return f"/v1/bets/{bet_id}/cash-out"


def request_quote(api, user, bet_id, **kw):
    return api.post(quote_path(bet_id), token=user.token, **kw)


def quoted(api, user, bet, amount=None):
    """201 a quote for `bet` (with `amount`, if given); returns it."""
    started = dt.datetime.now(dt.timezone.utc)
    resp = request_quote(api, user, bet["id"])
    answered = dt.datetime.now(dt.timezone.utc)
    body = expect_json(resp, 201)
    assert set(body) == QUOTE_KEYS, describe(resp)
    assert isinstance(body["quote_id"], (str, int)) and not isinstance(body["quote_id"], bool), describe(resp)
    assert body["quote_id"] not in ("", 0), describe(resp)
    assert body["bet_id"] == bet["id"], describe(resp)
    assert is_positive_int(body["amount"]), describe(resp)
    if amount is not None:
        assert body["amount"] == amount, describe(resp)
    expect_timestamp(body["expires_at"])
    expires = dt.datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
    ttl = dt.timedelta(milliseconds=QUOTE_TTL_MS)
    slack = dt.timedelta(seconds=CLOCK_SLACK_S)
    assert started + ttl - slack <= expires <= answered + ttl + slack, (body, started, answered)
    return body


def cash_out(api, user, bet_id, quote_id, key=None):
    headers = {"Idempotency-Key": key} if key is not None else None
    return api.post(cash_out_path(bet_id), json={"quote_id": quote_id}, token=user.token, headers=headers)


def cash_out_amount(stake, won=(), pending=(), margin=MARGIN):
    """floor(stake x prod(won legs' odds) x prod(taken / current) x (1 - margin)), exactly."""
    value = Fraction(stake) * (1 - margin)
    for odds in won:
        value *= F(odds)
    for taken, current in pending:
        value *= F(taken) / F(current)
    return math.floor(value)


def quote_key(redis, quote_id):
    """The quote's Redis key, cashout:<quote_id> (or with the id as a hash tag)."""
    candidates = [f"cashout:{quote_id}", f"cashout:{{{quote_id}}}"]
    present = [k for k in candidates if redis.exists(k)]
    assert len(present) == 1, f"no Redis key of quote {quote_id!r} among {candidates}"
    return present[0]


def expect_cashed_out(resp, bet, amount):
    """200 the bet, cashed out for `amount`, otherwise as placed; returns it."""
    body = expect_json(resp, 200)
    assert set(body) == (ACCA_KEYS if bet["type"] == "accumulator" else BET_KEYS), describe(resp)
    assert body["status"] == "cashed_out" and body["cash_out_amount"] == amount, describe(resp)
    expect_timestamp(body["settled_at"])
    skip = ("status", "cash_out_amount", "settled_at", "legs")
    assert {k: v for k, v in body.items() if k not in skip} == \
        {k: v for k, v in bet.items() if k not in skip}, describe(resp)
    return body


def settled_body(won=0, lost=0, void=0, paid_out=0, refunded=0):
    return {"won": won, "lost": lost, "void": void, "paid_out": paid_out, "refunded": refunded}


@pytest.fixture
def bettor(new_user):
    return new_user(balance=1_000_000)


@pytest.fixture
def single(api, admin_token, bettor):
    """Factory: single(stake=1000, odds={"1": 2.00, ...}, selection="1", user=bettor) -> (match, bet)."""

    def make(stake=1000, odds=None, selection="1", user=None, **extra):
        match = make_match(api, admin_token, odds, **extra)
        bet = expect_json(place(api, user or bettor, match, selection, stake), 201)
        return match, bet

    return make


@pytest.fixture
def betsdb_with(tmp_path, admin_token, _server_is_up):
    """Factory: betsdb_with(**env) -> (process, base_url): another `betsdb serve`
    of the binary under test, on the suite's database and Redis, with extra
    BETSDB_* settings. Killed at teardown."""
    started = []

    def make(**extra):
        exe = f"/proc/{required_env('BETSDB_TEST_SERVER_PID')}/exe"
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("BETSDB_")}
        env.update(BETSDB_LISTEN=f"127.0.0.1:{port}", BETSDB_DATABASE_URL=required_env("BETSDB_TEST_DATABASE_URL"),
                   BETSDB_ADMIN_TOKEN=admin_token, BETSDB_THREADS="2", BETSDB_LOG_LEVEL="warn",
                   BETSDB_SIGNUP_RATE_LIMIT="0", BETSDB_SIGN_INS_PER_CLIENT="0")
        env.update(redis_env())
        env.update(extra)
        log = open(tmp_path / f"betsdb-{port}.log", "wb")
        proc = subprocess.Popen(["betsdb", "serve"], executable=exe, env=env, stdin=subprocess.DEVNULL,
                                stdout=log, stderr=subprocess.STDOUT)
        started.append((proc, log))
        return proc, f"http://127.0.0.1:{port}"

    yield make
    for proc, log in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def serving(proc, base_url):
    def up():
        assert proc.poll() is None, f"betsdb exited with {proc.returncode}"
        try:
            return requests.get(base_url + "/healthz", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    poll_until(up, PROCESS_START_S, f"betsdb at {base_url}")


# ==========================================================================
# Quotes
# ==========================================================================

def test_a_quote_at_an_unchanged_price_is_the_stake_less_the_margin(api, bettor, single, snapshot, redis):
    _, bet = single(1000)
    snap = snapshot(bettor)
    body = quoted(api, bettor, bet, amount=950)
    left = redis.pttl(quote_key(redis, body["quote_id"]))
    assert 0 < left <= QUOTE_TTL_MS, left
    # A quote changes nothing, and a second one is another quote.
    again = quoted(api, bettor, bet, amount=950)
    assert again["quote_id"] != body["quote_id"]
    snap.expect_unchanged()
    assert get_bet(api, bettor.token, bet["id"]) == bet


@pytest.mark.parametrize("stake,taken,current,amount", [
    (1000, "2.10", "2.00", 997),                 # docs/api.md's example
    (1000, "2.00", "2.50", 760),
    (1000, "2.00", "1.60", 1187),                # 1187.5
    (777, "3.33", "3.10", 792),                  # 792.9159...
    (12_345, "7.77", "1.01", 90_222),            # 90222.3935...
    (MAX_STAKE, "1.01", "1000.00", 95_950),
    (MAX_STAKE, "1000.00", "1.01", 94_059_405_940),  # 94059405940.594...
])
def test_a_quote_follows_the_moved_price(api, admin_token, new_user, single, stake, taken, current, amount):
    assert cash_out_amount(stake, pending=[(taken, current)]) == amount
    user = new_user(balance=MAX_STAKE)
    match, bet = single(stake, odds={"1": float(taken), "X": 3.00}, user=user)
    patched(api, admin_token, match["id"], {"odds": {"1": float(current)}})
    quoted(api, user, bet, amount=amount)


def test_quotes_for_accumulators_count_won_legs_void_legs_and_moved_prices(api, admin_token, bettor):
    a = make_match(api, admin_token, {"1": 2.00, "X": 3.00})
    b = make_match(api, admin_token, {"1": 1.50, "X": 3.50})
    c = make_match(api, admin_token, {"1": 3.00, "2": 1.25})
    bet = placed_acca(api, bettor, [(a, "1", "2.00"), (b, "X", "3.50"), (c, "2", "1.25")], 1000)
    # Every leg pending at its price: the stake less the margin.
    quoted(api, bettor, bet, amount=950)
    patched(api, admin_token, b["id"], {"odds": {"X": 2.80}})
    assert cash_out_amount(1000, pending=[("3.50", "2.80")]) == 1187
    quoted(api, bettor, bet, amount=1187)
    expect_json(settle(api, admin_token, a["id"], "1"), 200)
    # 1000 x 2.00 x 3.50/2.80 x 1.25/1.25 x 0.95
    assert cash_out_amount(1000, won=["2.00"], pending=[("3.50", "2.80"), ("1.25", "1.25")]) == 2375
    quoted(api, bettor, bet, amount=2375)
    patched(api, admin_token, c["id"], {"odds": {"2": 1.30}})
    quoted(api, bettor, bet, amount=cash_out_amount(1000, won=["2.00"], pending=[("3.50", "2.80"), ("1.25", "1.30")]))


def test_a_void_leg_counts_1_in_a_quote(api, admin_token, bettor):
    a, b, c = (make_match(api, admin_token) for _ in range(3))
    bet = placed_acca(api, bettor, [(a, "1", "2.00"), (b, "X", "3.00"), (c, "2", "4.00")], 1234)
    expect_json(settle(api, admin_token, a["id"], "void"), 200)
    patched(api, admin_token, c["id"], {"odds": {"2": 4.50}})
    amount = cash_out_amount(1234, pending=[("4.00", "4.50")])
    assert amount == 1042  # 1234 x 4/4.5 x 0.95 = 1042.04
    quoted(api, bettor, bet, amount=amount)


def test_a_quote_for_ten_legs_near_the_payout_cap_is_exact(api, admin_token, new_user, bets_db):
    """Ten legs whose payout is 9 999 999 007 312: won, void and moved legs
    together (products far beyond 64 bits in hundredths), computed exactly."""
    user = new_user(balance=10_000_000)
    legs, bet = ten_leg_acca(api, admin_token, user)
    assert cash_out_amount(TEN_LEGS_STAKE, pending=[(o, o) for o in TEN_LEGS]) == 2_508_329
    quoted(api, user, bet, amount=2_508_329)
    expect_json(settle(api, admin_token, legs[1]["id"], "1"), 200)
    expect_json(settle(api, admin_token, legs[3]["id"], "void"), 200)
    current = list(TEN_LEGS)
    for i, price in ((0, "20.00"), (2, "15.00"), (5, "1.02"), (9, "1.01")):
        patched(api, admin_token, legs[i]["id"], {"odds": {"1": float(price)}})
        current[i] = price
    pending = [(TEN_LEGS[i], current[i]) for i in range(10) if i not in (1, 3)]
    amount = cash_out_amount(TEN_LEGS_STAKE, won=[TEN_LEGS[1]], pending=pending)
    assert amount == 114_735_285
    q = quoted(api, user, bet, amount=amount)
    done = expect_cashed_out(cash_out(api, user, bet["id"], q["quote_id"]), bet, amount)
    assert leg_statuses(done)[:4] == ["pending", "won", "pending", "void"]
    rows = expect_ledger(api, admin_token, user.id)
    assert bet_rows(rows, bet["id"]) == [("stake", -TEN_LEGS_STAKE), ("cash_out", amount)]
    bets_db.expect_invariant()


@pytest.mark.parametrize("margin,amount", [("0.1234", 1095), ("0", 1250), ("0.9999", 0)])
def test_the_margin_is_the_servers_configuration(api, admin_token, bettor, single, betsdb_with, margin, amount):
    """BETSDB_CASH_OUT_MARGIN on another instance: 1000 at 2.00, now 1.60 ->
    floor(1250 x (1 - margin)); its quotes are honoured by this instance too."""
    assert cash_out_amount(1000, pending=[("2.00", "1.60")], margin=Fraction(margin)) == amount
    match, bet = single(1000)
    patched(api, admin_token, match["id"], {"odds": {"1": 1.60}})
    proc, url = betsdb_with(BETSDB_CASH_OUT_MARGIN=margin)
    serving(proc, url)
    other = Api(url, admin_token)
    try:
        resp = request_quote(other, bettor, bet["id"])
    finally:
        other.close()
    if amount == 0:
        expect_problem(resp, 422, "cash_out_unavailable")
        return
    body = expect_json(resp, 201)
    assert body["amount"] == amount, describe(resp)
    quoted(api, bettor, bet, amount=1187)  # this server's default 0.05
    expect_cashed_out(cash_out(api, bettor, bet["id"], body["quote_id"]), bet, amount)


@pytest.mark.parametrize("margin", ["1", "1.0", "-0.01", "0.12345", "5%", "abc"])
def test_a_bad_margin_stops_the_server_from_starting(betsdb_with, margin):
    proc, url = betsdb_with(BETSDB_CASH_OUT_MARGIN=margin)
    try:
        code = proc.wait(timeout=PROCESS_START_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"betsdb kept running with BETSDB_CASH_OUT_MARGIN={margin!r}")
    assert code != 0, code


@pytest.mark.parametrize("kind", ["suspended", "withdrawn", "won", "lost", "void"])
def test_no_quote_for_a_single_that_cannot_be_cashed_out(api, admin_token, bettor, single, snapshot, kind):
    match, bet = single(1000)
    if kind == "suspended":
        suspend(api, admin_token, match["id"])
    elif kind == "withdrawn":
        patched(api, admin_token, match["id"], {"odds": {"1": None}})
    else:
        expect_json(settle(api, admin_token, match["id"], {"won": "1", "lost": "X", "void": "void"}[kind]), 200)
    snap = snapshot(bettor)
    expect_problem(request_quote(api, bettor, bet["id"]), 422, "cash_out_unavailable")
    snap.expect_unchanged()
    if kind == "suspended":
        resume(api, admin_token, match["id"])
        quoted(api, bettor, bet, amount=950)


@pytest.mark.parametrize("kind", ["suspended", "withdrawn", "lost"])
def test_no_quote_for_an_accumulator_with_a_leg_that_blocks_it(api, admin_token, bettor, snapshot, kind):
    a, b = make_match(api, admin_token), make_match(api, admin_token)
    bet = placed_acca(api, bettor, [(a, "1", "2.00"), (b, "X", "3.00")], 500)
    expect_json(settle(api, admin_token, a["id"], "1"), 200)  # a won leg blocks nothing
    quoted(api, bettor, bet, amount=cash_out_amount(500, won=["2.00"], pending=[("3.00", "3.00")]))
    if kind == "suspended":
        suspend(api, admin_token, b["id"])
    elif kind == "withdrawn":
        patched(api, admin_token, b["id"], {"odds": {"X": None}})
    else:
        expect_json(settle(api, admin_token, b["id"], "2"), 200)
    snap = snapshot(bettor)
    expect_problem(request_quote(api, bettor, bet["id"]), 422, "cash_out_unavailable")
    snap.expect_unchanged()


def test_no_quote_once_the_match_date_has_passed(api, admin_token, bettor, single):
    """The one test that waits: until the match's date (5 s ahead) has passed."""
    date = future_date(days=0, seconds=5)
    _, bet = single(1000, date=date)
    kick_off = dt.datetime.fromisoformat(date.replace("Z", "+00:00"))
    poll_until(lambda: dt.datetime.now(dt.timezone.utc) > kick_off + dt.timedelta(milliseconds=500), 15,
               "the match date to pass")
    expect_problem(request_quote(api, bettor, bet["id"]), 422, "cash_out_unavailable")


def test_no_quote_when_the_amount_would_be_zero(api, admin_token, bettor, single, snapshot):
    match, bet = single(1, odds={"1": 1.01, "X": 3.00})
    patched(api, admin_token, match["id"], {"odds": {"1": 1000.00}})
    assert cash_out_amount(1, pending=[("1.01", "1000.00")]) == 0
    snap = snapshot(bettor)
    expect_problem(request_quote(api, bettor, bet["id"]), 422, "cash_out_unavailable")
    snap.expect_unchanged()


def test_quotes_are_for_the_owner_only(api, admin_token, bettor, new_user, single):
    _, bet = single(1000)
    expect_problem(request_quote(api, new_user(), bet["id"]), 403, "forbidden")
    expect_problem(api.post(quote_path(bet["id"]), token=admin_token), 403, "forbidden")
    expect_problem(api.post(quote_path(bet["id"])), 401, "unauthorized")
    expect_problem(api.post(quote_path(bet["id"]), token="not-a-token"), 401, "unauthorized")
    expect_problem(request_quote(api, bettor, MISSING_ID), 404, "bet_not_found")


def test_a_quote_takes_no_body_or_an_empty_object(api, bettor, single):
    _, bet = single(1000)
    quoted(api, bettor, bet, amount=950)
    assert expect_json(request_quote(api, bettor, bet["id"], json={}), 201)["amount"] == 950
    expect_validation_failed(request_quote(api, bettor, bet["id"], json={"amount": 950}), "amount")
    expect_problem(request_quote(api, bettor, bet["id"], body='{"x":', ), 400, "invalid_json")
    expect_problem(request_quote(api, bettor, bet["id"], body="{}", content_type="text/plain"), 415,
                   "unsupported_media_type")


# ==========================================================================
# Cashing out
# ==========================================================================

def test_cashing_out_a_single_pays_the_quote_and_closes_the_bet(api, admin_token, bettor, single, bets_db):
    match, bet = single(1000)
    patched(api, admin_token, match["id"], {"odds": {"X": 3.30}})  # another selection moved: a new version
    q = quoted(api, bettor, bet, amount=950)
    balance = user_balance(api, admin_token, bettor.id)
    done = expect_cashed_out(cash_out(api, bettor, bet["id"], q["quote_id"]), bet, 950)
    assert get_bet(api, bettor.token, bet["id"]) == done
    assert get_bet(api, admin_token, bet["id"]) == done
    assert user_balance(api, admin_token, bettor.id) == balance + 950
    rows = expect_ledger(api, admin_token, bettor.id)
    last = rows[-1]
    assert (last["kind"], last["amount"], last["bet_id"], last["balance_after"]) == \
        ("cash_out", 950, bet["id"], balance + 950)
    assert bet_rows(rows, bet["id"]) == [("stake", -1000), ("cash_out", 950)]
    bets_db.expect_invariant()


def test_cashing_out_an_accumulator(api, admin_token, bettor, bets_db):
    a, b, c = (make_match(api, admin_token) for _ in range(3))
    bet = placed_acca(api, bettor, [(a, "1", "2.00"), (b, "X", "3.00"), (c, "2", "4.00")], 2000)
    expect_json(settle(api, admin_token, a["id"], "1"), 200)
    patched(api, admin_token, b["id"], {"odds": {"X": 2.50}})
    amount = cash_out_amount(2000, won=["2.00"], pending=[("3.00", "2.50"), ("4.00", "4.00")])
    assert amount == 4560
    q = quoted(api, bettor, bet, amount=amount)
    done = expect_cashed_out(cash_out(api, bettor, bet["id"], q["quote_id"]), bet, amount)
    assert leg_statuses(done)[0] == "won" and [leg["match_id"] for leg in done["legs"]] == [a["id"], b["id"], c["id"]]
    assert get_bet(api, bettor.token, bet["id"]) == done
    rows = expect_ledger(api, admin_token, bettor.id)
    assert bet_rows(rows, bet["id"]) == [("stake", -2000), ("cash_out", amount)]
    bets_db.expect_invariant()


def test_a_limits_change_since_the_quote_is_no_odds_change(api, admin_token, bettor, single):
    match, bet = single(1000)
    q = quoted(api, bettor, bet, amount=950)
    patched(api, admin_token, match["id"], {"max_stake": 10, "max_liability": 100})
    expect_cashed_out(cash_out(api, bettor, bet["id"], q["quote_id"]), bet, 950)


# ------------------------------------------------------------ quote_expired

@pytest.mark.parametrize("quote_id", ["no-such-quote", 12345, 0, -1, 1.5])
def test_an_unknown_quote_is_409_quote_expired(api, bettor, single, snapshot, quote_id):
    _, bet = single(1000)
    snap = snapshot(bettor)
    expect_problem(cash_out(api, bettor, bet["id"], quote_id), 409, "quote_expired")
    snap.expect_unchanged()
    assert get_bet(api, bettor.token, bet["id"]) == bet


def test_another_bets_quote_is_409_quote_expired(api, bettor, new_user, single, snapshot):
    _, first = single(1000)
    _, second = single(1000)
    other = new_user(balance=10_000)
    _, theirs = single(500, user=other)
    q_first = quoted(api, bettor, first)
    q_theirs = quoted(api, other, theirs)
    snaps = [snapshot(bettor), snapshot(other)]
    expect_problem(cash_out(api, bettor, second["id"], q_first["quote_id"]), 409, "quote_expired")
    expect_problem(cash_out(api, bettor, second["id"], q_theirs["quote_id"]), 409, "quote_expired")
    for snap in snaps:
        snap.expect_unchanged()
    # The quotes themselves are still good for their own bets.
    expect_cashed_out(cash_out(api, bettor, first["id"], q_first["quote_id"]), first, 950)
    expect_cashed_out(cash_out(api, other, theirs["id"], q_theirs["quote_id"]), theirs, 475)
    assert get_bet(api, bettor.token, second["id"])["status"] == "pending"


def test_an_expired_quote_is_409_quote_expired(api, bettor, single, snapshot, redis):
    """Expiry simulated: the quote's Redis key deleted."""
    _, bet = single(1000)
    q = quoted(api, bettor, bet)
    assert redis.delete(quote_key(redis, q["quote_id"])) == 1
    snap = snapshot(bettor)
    expect_problem(cash_out(api, bettor, bet["id"], q["quote_id"]), 409, "quote_expired")
    snap.expect_unchanged()
    fresh = quoted(api, bettor, bet)
    expect_cashed_out(cash_out(api, bettor, bet["id"], fresh["quote_id"]), bet, 950)


def test_a_quote_really_expires_after_10_seconds(api, bettor, single, snapshot, redis):
    """The one test that waits for a real expiry (bounded): the quote's key
    lives about 10 s, and once it is gone the quote is refused."""
    _, bet = single(1000)
    started = time.monotonic()
    q = quoted(api, bettor, bet)
    key = quote_key(redis, q["quote_id"])
    poll_until(lambda: redis.exists(key) == 0, QUOTE_TTL_MS / 1000 + 5, f"{key} to expire")
    assert time.monotonic() - started >= QUOTE_TTL_MS / 1000 - 1, "the quote expired too early"
    snap = snapshot(bettor)
    expect_problem(cash_out(api, bettor, bet["id"], q["quote_id"]), 409, "quote_expired")
    snap.expect_unchanged()


# ------------------------------------------------------------ odds_changed

def _move_single(api, admin_token, match_id, how):
    if how == "price":
        patched(api, admin_token, match_id, {"odds": {"1": 2.40}})
    elif how == "other_selection":
        patched(api, admin_token, match_id, {"odds": {"2": 4.10}})
    elif how == "withdrawn_other":
        patched(api, admin_token, match_id, {"odds": {"X": None}})
    elif how == "there_and_back":
        patched(api, admin_token, match_id, {"odds": {"1": 2.40}})
        patched(api, admin_token, match_id, {"odds": {"1": 2.00}})
    else:
        assert how == "suspend_resume"
        suspend(api, admin_token, match_id)
        resume(api, admin_token, match_id)


@pytest.mark.parametrize("how", ["price", "other_selection", "withdrawn_other", "there_and_back",
                                 "suspend_resume"])
def test_an_odds_version_change_since_the_quote_is_409_odds_changed(api, admin_token, bettor, single,
                                                                    snapshot, how):
    match, bet = single(1000)
    q = quoted(api, bettor, bet, amount=950)
    _move_single(api, admin_token, match["id"], how)
    snap = snapshot(bettor)
    expect_problem(cash_out(api, bettor, bet["id"], q["quote_id"]), 409, "odds_changed")
    snap.expect_unchanged()
    assert get_bet(api, bettor.token, bet["id"])["status"] == "pending"
    # A new quote, at the price now, is honoured.
    amount = cash_out_amount(1000, pending=[("2.00", "2.40" if how == "price" else "2.00")])
    fresh = quoted(api, bettor, bet, amount=amount)
    expect_cashed_out(cash_out(api, bettor, bet["id"], fresh["quote_id"]), bet, amount)


@pytest.mark.parametrize("how", ["leg_won", "leg_void", "price"])
def test_an_accumulator_leg_changed_or_settled_since_the_quote_is_409_odds_changed(
        api, admin_token, bettor, snapshot, how):
    a, b = make_match(api, admin_token), make_match(api, admin_token)
    bet = placed_acca(api, bettor, [(a, "1", "2.00"), (b, "X", "3.00")], 1000)
    q = quoted(api, bettor, bet, amount=950)
    if how == "price":
        patched(api, admin_token, b["id"], {"odds": {"X": 3.20}})
    else:
        expect_json(settle(api, admin_token, a["id"], "1" if how == "leg_won" else "void"), 200)
    snap = snapshot(bettor)
    expect_problem(cash_out(api, bettor, bet["id"], q["quote_id"]), 409, "odds_changed")
    snap.expect_unchanged()
    assert get_bet(api, bettor.token, bet["id"])["status"] == "pending"


# ------------------------------------------------------------ already_settled

@pytest.mark.parametrize("result", ["1", "X", "void"])
def test_a_single_settled_since_the_quote_is_409_already_settled(api, admin_token, bettor, single, snapshot,
                                                                 result):
    match, bet = single(1000)
    q = quoted(api, bettor, bet)
    expect_json(settle(api, admin_token, match["id"], result), 200)
    snap = snapshot(bettor)
    expect_problem(cash_out(api, bettor, bet["id"], q["quote_id"]), 409, "already_settled")
    snap.expect_unchanged()
    assert get_bet(api, bettor.token, bet["id"])["status"] == {"1": "won", "X": "lost", "void": "void"}[result]


def test_an_accumulator_lost_since_the_quote_is_409_already_settled(api, admin_token, bettor, snapshot):
    a, b = make_match(api, admin_token), make_match(api, admin_token)
    bet = placed_acca(api, bettor, [(a, "1", "2.00"), (b, "X", "3.00")], 1000)
    q = quoted(api, bettor, bet)
    expect_json(settle(api, admin_token, b["id"], "1"), 200)
    snap = snapshot(bettor)
    expect_problem(cash_out(api, bettor, bet["id"], q["quote_id"]), 409, "already_settled")
    snap.expect_unchanged()


def test_a_cashed_out_bet_cannot_be_cashed_out_again(api, admin_token, bettor, single, snapshot):
    _, bet = single(1000)
    first, second = quoted(api, bettor, bet), quoted(api, bettor, bet)
    expect_cashed_out(cash_out(api, bettor, bet["id"], first["quote_id"]), bet, 950)
    snap = snapshot(bettor)
    expect_problem(cash_out(api, bettor, bet["id"], second["quote_id"]), 409, "already_settled")
    # The used quote again (no Idempotency-Key): refused either way, never paid twice.
    problem = expect_problem(cash_out(api, bettor, bet["id"], first["quote_id"]), 409)
    assert problem["code"] in ("quote_expired", "already_settled"), problem
    expect_problem(request_quote(api, bettor, bet["id"]), 422, "cash_out_unavailable")
    snap.expect_unchanged()
    rows = expect_ledger(api, admin_token, bettor.id)
    assert bet_rows(rows, bet["id"]) == [("stake", -1000), ("cash_out", 950)]


# ------------------------------------------------------------ the order of checks

def test_a_missing_bet_is_404_and_someone_elses_403_after_the_body(api, admin_token, bettor, new_user, single,
                                                                    snapshot):
    """The contract's order (API.md Part 2: route, auth, size/media type, JSON,
    validation, then the route's own checks): the body first (422), then 404
    bet_not_found and 403 forbidden."""
    _, bet = single(1000)
    other = new_user(balance=1000)
    q = quoted(api, bettor, bet)
    snaps = [snapshot(bettor), snapshot(other)]
    expect_problem(api.post(cash_out_path(MISSING_ID), json={"quote_id": q["quote_id"]}, token=bettor.token),
                   404, "bet_not_found")
    expect_problem(cash_out(api, other, bet["id"], q["quote_id"]), 403, "forbidden")
    expect_problem(api.post(cash_out_path(bet["id"]), json={"quote_id": q["quote_id"]}, token=admin_token),
                   403, "forbidden")
    expect_problem(api.post(cash_out_path(bet["id"]), json={"quote_id": q["quote_id"]}), 401, "unauthorized")
    # With a body that is invalid too: the body is checked first.
    expect_validation_failed(api.post(cash_out_path(MISSING_ID), json={}, token=bettor.token), "quote_id")
    expect_validation_failed(api.post(cash_out_path(bet["id"]), json={}, token=other.token), "quote_id")
    for snap in snaps:
        snap.expect_unchanged()


def test_a_bad_cash_out_body_is_refused(api, bettor, single, snapshot):
    _, bet = single(1000)
    q = quoted(api, bettor, bet)
    snap = snapshot(bettor)
    for body in ({}, {"quote_id": None}, {"quote_id": True}, {"quote_id": [q["quote_id"]]},
                 {"quote_id": {"id": q["quote_id"]}}):
        expect_validation_failed(api.post(cash_out_path(bet["id"]), json=body, token=bettor.token), "quote_id")
    expect_validation_failed(api.post(cash_out_path(bet["id"]), json={"quote_id": q["quote_id"], "amount": 950},
                                      token=bettor.token), "amount")
    # No body at all: not JSON (415), or an empty object without quote_id (422).
    resp = api.post(cash_out_path(bet["id"]), token=bettor.token)
    problem = expect_problem(resp, resp.status_code)
    assert (problem["status"], problem["code"]) in ((415, "unsupported_media_type"), (422, "validation_failed")), \
        problem
    expect_problem(api.post(cash_out_path(bet["id"]), body='{"quote_id": 1', token=bettor.token), 400,
                   "invalid_json")
    snap.expect_unchanged()
    # The quote is still good.
    expect_cashed_out(cash_out(api, bettor, bet["id"], q["quote_id"]), bet, 950)


def test_quote_expired_comes_before_already_settled_before_odds_changed(api, admin_token, bettor, single,
                                                                       redis):
    match, bet = single(1000)
    q = quoted(api, bettor, bet)
    expect_json(settle(api, admin_token, match["id"], "1"), 200)
    balance = user_balance(api, admin_token, bettor.id)
    expect_problem(cash_out(api, bettor, bet["id"], "unknown"), 409, "quote_expired")
    # The bet is settled, and its leg was settled since the quote: already_settled first.
    expect_problem(cash_out(api, bettor, bet["id"], q["quote_id"]), 409, "already_settled")
    assert redis.delete(quote_key(redis, q["quote_id"])) == 1
    expect_problem(cash_out(api, bettor, bet["id"], q["quote_id"]), 409, "quote_expired")
    assert user_balance(api, admin_token, bettor.id) == balance
    assert get_bet(api, bettor.token, bet["id"])["status"] == "won"


# ------------------------------------------------------------ Idempotency-Key

def test_an_idempotent_retry_replays_the_cash_out_and_credits_once(api, admin_token, bettor, single):
    _, bet = single(1000)
    q, other_q = quoted(api, bettor, bet), quoted(api, bettor, bet)
    key = f"cash-{uuid.uuid4()}"
    first = cash_out(api, bettor, bet["id"], q["quote_id"], key=key)
    done = expect_cashed_out(first, bet, 950)
    balance = user_balance(api, admin_token, bettor.id)
    for _ in range(2):
        again = cash_out(api, bettor, bet["id"], q["quote_id"], key=key)
        assert (again.status_code, again.json()) == (200, done), describe(again)
        assert again.headers.get("Idempotent-Replayed") == "true", describe(again)
    assert user_balance(api, admin_token, bettor.id) == balance
    expect_problem(cash_out(api, bettor, bet["id"], other_q["quote_id"], key=key), 422, "idempotency_key_reused")
    rows = expect_ledger(api, admin_token, bettor.id)
    assert bet_rows(rows, bet["id"]) == [("stake", -1000), ("cash_out", 950)]


def test_an_idempotency_key_is_scoped_to_the_cash_out_route(api, admin_token, bettor, new_match):
    match = new_match(odds={"1": 2.00, "X": 3.00})
    key = f"shared-{uuid.uuid4()}"
    bet = expect_json(api.post("/v1/bets", json={"user_id": bettor.id, "match_id": match["id"], "selection": "1",
                                                 "stake": 1000},
                               token=bettor.token, headers={"Idempotency-Key": key}), 201)
    q = quoted(api, bettor, bet, amount=950)
    expect_cashed_out(cash_out(api, bettor, bet["id"], q["quote_id"], key=key), bet, 950)


def test_a_refused_cash_out_is_replayed_under_its_key(api, admin_token, bettor, single):
    match, bet = single(1000)
    q = quoted(api, bettor, bet)
    suspend(api, admin_token, match["id"])
    resume(api, admin_token, match["id"])
    key = f"cash-{uuid.uuid4()}"
    first = cash_out(api, bettor, bet["id"], q["quote_id"], key=key)
    expect_problem(first, 409, "odds_changed")
    again = cash_out(api, bettor, bet["id"], q["quote_id"], key=key)
    assert (again.status_code, again.json()) == (409, first.json()), describe(again)
    assert again.headers.get("Idempotent-Replayed") == "true", describe(again)
    assert get_bet(api, bettor.token, bet["id"])["status"] == "pending"


# ==========================================================================
# Settlement, exposure, lists and the summary after a cash-out
# ==========================================================================

@pytest.mark.parametrize("result", ["1", "X", "void"])
def test_settlement_leaves_a_cashed_out_single_alone(api, admin_token, bettor, new_user, single, bets_db, result):
    match, bet = single(1000)
    other = new_user(balance=1000)
    theirs = expect_json(place(api, other, match, "1", 400), 201)
    q = quoted(api, bettor, bet)
    done = expect_cashed_out(cash_out(api, bettor, bet["id"], q["quote_id"]), bet, 950)
    balance = user_balance(api, admin_token, bettor.id)
    totals = expect_json(settle(api, admin_token, match["id"], result), 200)["settled"]
    # Only the other user's bet was settled.
    assert totals == {"1": settled_body(won=1, paid_out=800), "X": settled_body(lost=1),
                      "void": settled_body(void=1, refunded=400)}[result]
    assert get_bet(api, bettor.token, bet["id"]) == done
    assert user_balance(api, admin_token, bettor.id) == balance
    assert bet_rows(expect_ledger(api, admin_token, bettor.id), bet["id"]) == [("stake", -1000), ("cash_out", 950)]
    assert get_bet(api, other.token, theirs["id"])["status"] == {"1": "won", "X": "lost", "void": "void"}[result]
    bets_db.expect_invariant()


def test_settlement_leaves_a_cashed_out_accumulator_alone(api, admin_token, bettor):
    a, b = make_match(api, admin_token), make_match(api, admin_token)
    bet = placed_acca(api, bettor, [(a, "1", "2.00"), (b, "X", "3.00")], 1000)
    q = quoted(api, bettor, bet, amount=950)
    done = expect_cashed_out(cash_out(api, bettor, bet["id"], q["quote_id"]), bet, 950)
    balance = user_balance(api, admin_token, bettor.id)
    assert expect_json(settle(api, admin_token, a["id"], "1"), 200)["settled"] == settled_body()
    assert expect_json(settle(api, admin_token, b["id"], "X"), 200)["settled"] == settled_body()
    now = get_bet(api, bettor.token, bet["id"])
    assert (now["status"], now["cash_out_amount"], now["settled_at"]) == \
        ("cashed_out", 950, done["settled_at"])
    assert user_balance(api, admin_token, bettor.id) == balance
    assert bet_rows(expect_ledger(api, admin_token, bettor.id), bet["id"]) == [("stake", -1000), ("cash_out", 950)]


def test_exposure_drops_a_cashed_out_single(api, admin_token, bettor, new_user, single):
    match, bet = single(1000)
    other = new_user(balance=1000)
    expect_json(place(api, other, match, "X", 500), 201)
    assert exposure(api, admin_token, match["id"]) == {
        "match_id": match["id"], "bets": 2, "stakes": {"1": 1000, "X": 500, "2": 0},
        "payouts": {"1": 2000, "X": 1500, "2": 0}, "liability": {"1": 500, "X": 0, "2": -1500},
        "max_liability": None}
    q = quoted(api, bettor, bet)
    expect_cashed_out(cash_out(api, bettor, bet["id"], q["quote_id"]), bet, 950)
    assert exposure(api, admin_token, match["id"]) == {
        "match_id": match["id"], "bets": 1, "stakes": {"1": 0, "X": 500, "2": 0},
        "payouts": {"1": 0, "X": 1500, "2": 0}, "liability": {"1": -500, "X": 1000, "2": -500},
        "max_liability": None}


def test_lists_and_the_summary_show_cashed_out_bets(api, admin_token, bettor, single):
    before = summary(api, admin_token)
    match, bet = single(1000)
    a, b = make_match(api, admin_token), make_match(api, admin_token)
    acca = placed_acca(api, bettor, [(a, "1", "2.00"), (b, "X", "3.00")], 600)
    assert user_bets(api, bettor, status="pending") == ({bet["id"], acca["id"]}, 2)
    for target in (bet, acca):
        q = quoted(api, bettor, target)
        expect_json(cash_out(api, bettor, target["id"], q["quote_id"]), 200)
    assert user_bets(api, bettor, status="cashed_out") == ({bet["id"], acca["id"]}, 2)
    assert user_bets(api, bettor, status="pending") == (set(), 0)
    assert user_bets(api, bettor, status="cashed_out", match_id=b["id"]) == ({acca["id"]}, 1)
    listed = expect_json(api.get("/v1/bets", params={"status": "cashed_out", "match_id": match["id"]},
                                 token=admin_token), 200)
    assert [(x["id"], x["cash_out_amount"]) for x in listed["items"]] == [(bet["id"], 950)]
    delta = summary_delta(summary(api, admin_token), before)
    assert delta["by_status"]["cashed_out"] == {"count": 2, "stake": 1600}, delta
    assert delta["by_status"]["pending"] == {"count": 0, "stake": 0}, delta
    assert (delta["total_bets"], delta["total_stake"]) == (2, 1600), delta


def test_the_same_legs_may_be_placed_again_after_a_cash_out(api, admin_token, bettor):
    a, b = make_match(api, admin_token), make_match(api, admin_token)
    bet = placed_acca(api, bettor, [(a, "1", "2.00"), (b, "X", "3.00")], 1000)
    expect_problem(place_acca(api, bettor, [lg(a, "1"), lg(b, "X")], 1000), 409, "duplicate_bet")
    q = quoted(api, bettor, bet)
    expect_json(cash_out(api, bettor, bet["id"], q["quote_id"]), 200)
    again = placed_acca(api, bettor, [(b, "X", "3.00"), (a, "1", "2.00")], 1000)
    assert again["id"] != bet["id"]


# ==========================================================================
# Races: cash-outs of one bet, cash-out against settlement
# ==========================================================================

@pytest.mark.concurrency
def test_concurrent_cash_outs_of_one_bet_pay_once(api, admin_token, base_url, bettor, single, bets_db):
    """Eight cash-outs of one bet at once, under two quotes: one 200, the rest
    409, one credit."""
    _, bet = single(1000)
    quotes = [quoted(api, bettor, bet, amount=950)["quote_id"] for _ in range(2)]
    balance = user_balance(api, admin_token, bettor.id)
    responses = run_concurrently([base_url], admin_token, 8,
                                 lambda client, i: cash_out(client, bettor, bet["id"], quotes[i % 2]))
    done = [r for r in responses if r.status_code == 200]
    assert len(done) == 1, [(r.status_code, r.text[:80]) for r in responses]
    expect_cashed_out(done[0], bet, 950)
    for resp in responses:
        if resp.status_code != 200:
            problem = expect_problem(resp, 409)
            assert problem["code"] in ("already_settled", "quote_expired"), describe(resp)
    assert user_balance(api, admin_token, bettor.id) == balance + 950
    assert bet_rows(expect_ledger(api, admin_token, bettor.id), bet["id"]) == [("stake", -1000), ("cash_out", 950)]
    bets_db.expect_invariant()


@pytest.mark.concurrency
def test_concurrent_retries_under_one_idempotency_key_cash_out_once(api, admin_token, base_url, bettor, single):
    """The same keyed cash-out sent eight times at once: every answer is the
    cash-out (first or replayed) or 409 bet_in_progress, and it acts once."""
    _, bet = single(1000)
    q = quoted(api, bettor, bet, amount=950)
    key = f"cash-{uuid.uuid4()}"
    balance = user_balance(api, admin_token, bettor.id)
    responses = run_concurrently([base_url], admin_token, 8,
                                 lambda client, i: cash_out(client, bettor, bet["id"], q["quote_id"], key=key))
    done = [r for r in responses if r.status_code == 200]
    assert done, [(r.status_code, r.text[:80]) for r in responses]
    for resp in done:
        assert resp.json() == done[0].json(), describe(resp)
    expect_cashed_out(done[0], bet, 950)
    for resp in responses:
        if resp.status_code != 200:
            expect_problem(resp, 409, "bet_in_progress")
    assert user_balance(api, admin_token, bettor.id) == balance + 950
    assert bet_rows(expect_ledger(api, admin_token, bettor.id), bet["id"]) == [("stake", -1000), ("cash_out", 950)]
    # Afterwards, a replay.
    again = cash_out(api, bettor, bet["id"], q["quote_id"], key=key)
    assert (again.status_code, again.json()) == (200, done[0].json()), describe(again)


@pytest.mark.concurrency
def test_a_cash_out_racing_an_odds_change_pays_the_quote_or_nothing(api, admin_token, base_url, bettor,
                                                                    bets_db):
    """Cash-out against a PATCH of the bet's match: either the cash-out came
    first (200, the quoted amount) or it is 409 odds_changed and the bet pending."""
    outcomes = set()
    for round_ in range(10):
        match = make_match(api, admin_token)
        bet = expect_json(place(api, bettor, match, "1", 1000), 201)
        q = quoted(api, bettor, bet, amount=950)

        def request(client, i):
            if i == 0:
                return cash_out(client, bettor, bet["id"], q["quote_id"])
            return client.patch(f"/v1/matches/{match['id']}", json={"odds": {"1": 2.50}}, token=admin_token)

        cashed, patch = run_concurrently([base_url], admin_token, 2, request)
        assert patch.status_code == 200, describe(patch)
        now = get_bet(api, bettor.token, bet["id"])
        if cashed.status_code == 200:
            assert expect_cashed_out(cashed, bet, 950) == now
        else:
            expect_problem(cashed, 409, "odds_changed")
            assert now["status"] == "pending", now
        outcomes.add(cashed.status_code)
        rows = expect_ledger(api, admin_token, bettor.id)
        assert bet_rows(rows, bet["id"]) == [("stake", -1000)] + \
            ([("cash_out", 950)] if cashed.status_code == 200 else []), round_
    bets_db.expect_invariant(f"outcomes {outcomes}")


# ------------------------------------------------------------ cash-out racing settlement

def _race(base_url, admin_token, user, bet_id, quote_id, match_id, result):
    def request(client, i):
        if i == 0:
            return client.post(cash_out_path(bet_id), json={"quote_id": quote_id}, token=user.token)
        return settle(client, admin_token, match_id, result)

    return run_concurrently([base_url], admin_token, 2, request)


@pytest.mark.concurrency
def test_a_single_cashed_out_while_its_match_is_settled_ends_one_way(api, admin_token, base_url, new_user,
                                                                     bets_db):
    """Repeated: exactly one of the cash-out and the settlement takes the bet,
    the other leaves it alone, and the money follows the winner only."""
    user = new_user(balance=1_000_000)
    expected_balance = 1_000_000
    wins = {"cash_out": 0, "settlement": 0}
    for round_ in range(RACE_ROUNDS_SINGLE):
        result = ("1", "2", "void")[round_ % 3]
        match = make_match(api, admin_token)
        bet = expect_json(place(api, user, match, "1", 1000), 201)
        expected_balance -= 1000
        q = quoted(api, user, bet, amount=950)
        cashed, settlement = _race(base_url, admin_token, user, bet["id"], q["quote_id"], match["id"], result)
        totals = expect_json(settlement, 200)["settled"]
        now = get_bet(api, admin_token, bet["id"])
        if cashed.status_code == 200:
            wins["cash_out"] += 1
            assert expect_cashed_out(cashed, bet, 950) == now, round_
            assert totals == settled_body(), (round_, totals)
            credit = [("cash_out", 950)]
        else:
            wins["settlement"] += 1
            problem = expect_problem(cashed, 409)
            assert problem["code"] in ("already_settled", "odds_changed"), describe(cashed)
            status, expected_totals, credit = {
                "1": ("won", settled_body(won=1, paid_out=2000), [("payout", 2000)]),
                "2": ("lost", settled_body(lost=1), []),
                "void": ("void", settled_body(void=1, refunded=1000), [("refund", 1000)]),
            }[result]
            assert (now["status"], now["cash_out_amount"]) == (status, None), (round_, now)
            assert totals == expected_totals, (round_, totals)
        expected_balance += sum(amount for _, amount in credit)
        rows = expect_ledger(api, admin_token, user.id)
        assert bet_rows(rows, bet["id"]) == [("stake", -1000)] + credit, (round_, wins)
        assert user_balance(api, admin_token, user.id) == expected_balance, (round_, wins)
    bets_db.expect_invariant(f"after {wins}")
    result = betsdb("check")
    assert result.returncode == 0, show(result)


@pytest.mark.concurrency
def test_an_accumulator_cashed_out_while_a_leg_is_settled_ends_one_way(api, admin_token, base_url, new_user,
                                                                       bets_db):
    user = new_user(balance=1_000_000)
    expected_balance = 1_000_000
    wins = {"cash_out": 0, "settlement": 0}
    for round_ in range(RACE_ROUNDS_ACCA):
        result = ("1", "2", "void")[round_ % 3]
        a, b = make_match(api, admin_token), make_match(api, admin_token)
        bet = placed_acca(api, user, [(a, "1", "2.00"), (b, "X", "3.00")], 1000)
        expected_balance -= 1000
        q = quoted(api, user, bet, amount=950)
        cashed, settlement = _race(base_url, admin_token, user, bet["id"], q["quote_id"], a["id"], result)
        totals = expect_json(settlement, 200)["settled"]
        now = get_bet(api, admin_token, bet["id"])
        if cashed.status_code == 200:
            wins["cash_out"] += 1
            assert (now["status"], now["cash_out_amount"]) == ("cashed_out", 950), (round_, now)
            assert totals == settled_body(), (round_, totals)
            credit = [("cash_out", 950)]
        else:
            wins["settlement"] += 1
            problem = expect_problem(cashed, 409)
            assert problem["code"] in ("already_settled", "odds_changed"), describe(cashed)
            if result == "2":
                assert now["status"] == "lost" and totals == settled_body(lost=1), (round_, now, totals)
            else:
                assert now["status"] == "pending" and totals == settled_body(), (round_, now, totals)
                assert leg_statuses(now) == [{"1": "won", "void": "void"}[result], "pending"], (round_, now)
            credit = []
        expected_balance += sum(amount for _, amount in credit)
        rows = expect_ledger(api, admin_token, user.id)
        assert bet_rows(rows, bet["id"]) == [("stake", -1000)] + credit, (round_, wins)
        assert user_balance(api, admin_token, user.id) == expected_balance, (round_, wins)
    bets_db.expect_invariant(f"after {wins}")
    result = betsdb("check")
    assert result.returncode == 0, show(result)
