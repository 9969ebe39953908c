"""Suspension (API.md Part 2, "Suspension"; wire decisions in the trading
design): POST /v1/matches/{id}/suspend and /resume, what a suspended match
refuses (bets, cart adds and changes, checkout: 422 match_suspended) and what
still works (PATCH, settlement), the status filter, and suspension racing
placements.
"""

import datetime as dt
import threading

import pytest

from api_support import (
    expect_json,
    expect_problem,
    expect_status,
    expect_validation_failed,
    future_date,
    past_date,
    unique_team,
)
from bet_support import (
    MISSING_ID,
    bet_body,
    create_user,
    expect_consistent_ledger,
    parallel_map,
    run_concurrently,
    settle,
    user_balance,
)
from trading_support import (
    D,
    add_item,
    cart_url,
    checkout,
    get_match,
    match_url,
    patch_match,
    place,
)

# The suspension race: bettors (one user each, one bet per selection) placing
# while the admin suspends, once PLACED_BEFORE_SUSPEND bets went through;
# every bettor goes on until it has made POST_SUSPEND_TRIES attempts that
# started after the suspension returned (at most MAX_TRIES attempts in all).
RACE_BETTORS = 24
PLACED_BEFORE_SUSPEND = 8
POST_SUSPEND_TRIES = 2
MAX_TRIES = 200
RACE_WAIT_S = 30


def suspend(api, admin_token, match_id, **kw):
    return api.post(match_url(match_id) + "/suspend", token=admin_token, **kw)


def resume(api, admin_token, match_id, **kw):
    return api.post(match_url(match_id) + "/resume", token=admin_token, **kw)


def parse_time(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def bettor(new_user):
    return new_user(balance=100_000)


@pytest.fixture
def suspended_match(api, admin_token, new_match):
    """Factory: a match (2.00 / 3.00 / 4.00) already suspended (version 2)."""

    def make(**kw):
        match = new_match(odds={"1": 2.00, "X": 3.00, "2": 4.00}, **kw)
        body = expect_json(suspend(api, admin_token, match["id"]), 200)
        assert body["status"] == "suspended" and body["odds_version"] == 2, body
        return body

    return make


# ------------------------------------------------------------ suspend / resume

def test_suspend_and_resume_answer_the_match_and_bump_the_version(api, admin_token, new_match):
    match = new_match()
    suspended = expect_json(suspend(api, admin_token, match["id"]), 200)
    assert suspended["status"] == "suspended"
    assert suspended["odds_version"] == 2
    assert {k: v for k, v in suspended.items() if k not in ("status", "odds_version")} == \
        {k: v for k, v in match.items() if k not in ("status", "odds_version")}
    assert get_match(api, match["id"]) == suspended
    resumed = expect_json(resume(api, admin_token, match["id"]), 200)
    assert resumed["status"] == "open"
    assert resumed["odds_version"] == 3
    assert get_match(api, match["id"]) == resumed


def test_repeating_suspend_or_resume_changes_nothing(api, admin_token, new_match, db):
    match = new_match()
    # Resuming an open match is a no-op.
    row = db.match_row(match["id"])
    assert expect_json(resume(api, admin_token, match["id"]), 200) == match
    assert db.match_row(match["id"]) == row
    first = expect_json(suspend(api, admin_token, match["id"]), 200)
    row = db.match_row(match["id"])
    for _ in range(2):
        again = expect_json(suspend(api, admin_token, match["id"], json={}), 200)
        assert again == first
    assert db.match_row(match["id"]) == row
    resumed = expect_json(resume(api, admin_token, match["id"]), 200)
    assert resumed["odds_version"] == 3
    assert expect_json(resume(api, admin_token, match["id"]), 200) == resumed
    assert get_match(api, match["id"])["odds_version"] == 3


def test_suspend_and_resume_take_no_body_or_an_empty_object(api, admin_token, new_match, db):
    match = new_match()
    row = db.match_row(match["id"])
    for action in (suspend, resume):
        for raw in ('{"status":"suspended"}', '{"x":1}'):
            expect_validation_failed(action(api, admin_token, match["id"], body=raw))
        expect_status(action(api, admin_token, match["id"], body="{"), 400)
    assert db.match_row(match["id"]) == row
    assert expect_json(suspend(api, admin_token, match["id"], json={}), 200)["status"] == "suspended"
    assert expect_json(resume(api, admin_token, match["id"], json={}), 200)["status"] == "open"


def test_suspend_and_resume_are_admin_only(api, new_match, bettor, db):
    match = new_match()
    row = db.match_row(match["id"])
    for action in ("suspend", "resume"):
        url = match_url(match["id"]) + "/" + action
        expect_problem(api.post(url), 401, "unauthorized")
        expect_problem(api.post(url, token="not-a-token"), 401, "unauthorized")
        expect_problem(api.post(url, token=bettor.token), 403, "forbidden")
    assert db.match_row(match["id"]) == row


def test_suspend_and_resume_of_a_missing_match_are_404(api, admin_token):
    for action in ("suspend", "resume"):
        expect_problem(api.post(match_url(MISSING_ID) + "/" + action, token=admin_token), 404, "match_not_found")
        expect_problem(api.post(f"/v1/matches/abc/{action}", token=admin_token), 404, "not_found")


def test_a_settled_match_cannot_be_suspended_or_resumed(api, admin_token, new_match, db):
    match = new_match()
    expect_status(settle(api, admin_token, match["id"], "1"), 200)
    row = db.match_row(match["id"])
    expect_problem(suspend(api, admin_token, match["id"]), 409, "already_settled")
    expect_problem(resume(api, admin_token, match["id"]), 409, "already_settled")
    assert db.match_row(match["id"]) == row
    assert get_match(api, match["id"])["status"] == "settled"


def test_a_match_past_kick_off_can_be_suspended_but_stays_closed(api, admin_token, new_match, bettor, snapshot):
    match = new_match(date=past_date(days=1), odds={"1": 2.00, "X": 3.00, "2": 4.00})
    suspended = expect_json(suspend(api, admin_token, match["id"]), 200)
    assert suspended["status"] == "suspended" and suspended["odds_version"] == 2
    snap = snapshot(bettor)
    # Closed beats suspended.
    expect_problem(place(api, bettor, match, "1", 100), 422, "match_closed")
    expect_problem(add_item(api, bettor, match, "1", 100), 422, "match_closed")
    resumed = expect_json(resume(api, admin_token, match["id"]), 200)
    assert resumed["status"] == "open" and resumed["odds_version"] == 3
    expect_problem(place(api, bettor, match, "1", 100), 422, "match_closed")
    snap.expect_unchanged()


# ------------------------------------------------------------ while suspended

@pytest.mark.parametrize("extra", [{}, {"odds": 2.00}, {"odds": 2.50, "accept_price_change": "any"}])
def test_a_bet_on_a_suspended_match_is_422_match_suspended(api, bettor, suspended_match, snapshot, extra):
    match = suspended_match()
    snap = snapshot(bettor)
    expect_problem(place(api, bettor, match, "1", 100, **extra), 422, "match_suspended")
    snap.expect_unchanged()


def test_after_resume_bets_are_taken_again(api, admin_token, bettor, suspended_match):
    match = suspended_match()
    expect_problem(place(api, bettor, match, "X", 100), 422, "match_suspended")
    expect_json(resume(api, admin_token, match["id"]), 200)
    bet = expect_json(place(api, bettor, match, "X", 100, odds=3.00), 201)
    assert bet["odds_version"] == 3 and D(bet["odds"]) == D("3.00")
    assert user_balance(api, admin_token, bettor.id) == 100_000 - 100


def test_suspended_is_checked_after_match_and_selection(api, admin_token, bettor, suspended_match, snapshot):
    match = suspended_match()
    expect_json(patch_match(api, admin_token, match["id"], {"odds": {"X": None}}), 200)
    snap = snapshot(bettor)
    body = {"user_id": bettor.id, "match_id": MISSING_ID, "selection": "1", "stake": 100}
    expect_problem(api.post("/v1/bets", json=body, token=bettor.token), 404, "match_not_found")
    expect_problem(place(api, bettor, match, "X", 100), 422, "invalid_selection")
    expect_problem(add_item(api, bettor, match, "X", 100), 422, "invalid_selection")
    snap.expect_unchanged()


def test_suspended_is_checked_before_price_limit_duplicate_and_funds(
        api, admin_token, new_user, new_match, snapshot):
    user = new_user(balance=500)
    match = new_match(odds={"1": 2.00, "X": 3.00, "2": 4.00})
    expect_json(place(api, user, match, "1", 100), 201)
    expect_json(patch_match(api, admin_token, match["id"], {"odds": {"2": 4.50}, "max_stake": 50}), 200)
    expect_json(suspend(api, admin_token, match["id"]), 200)
    snap = snapshot(user)
    expect_problem(place(api, user, match, "1", 100), 422, "match_suspended")          # duplicate
    expect_problem(place(api, user, match, "2", 40, odds=4.00), 422, "match_suspended")  # price
    expect_problem(place(api, user, match, "X", 60), 422, "match_suspended")           # max_stake
    expect_problem(place(api, user, match, "X", 50_000), 422, "match_suspended")       # funds too
    snap.expect_unchanged()


def test_cart_add_and_change_on_a_suspended_match_are_refused(
        api, admin_token, bettor, new_match, suspended_match, snapshot):
    match = new_match(odds={"1": 2.00, "X": 3.00, "2": 4.00})
    item = expect_json(add_item(api, bettor, match, "1", 100), 201)
    other = suspended_match()
    snap = snapshot(bettor)
    expect_problem(add_item(api, bettor, other, "1", 100), 422, "match_suspended")
    expect_json(suspend(api, admin_token, match["id"]), 200)
    url = f"{cart_url(bettor)}/items/{item['item_id']}"
    expect_problem(api.patch(url, json={"stake": 200}, token=bettor.token), 422, "match_suspended")
    expect_problem(api.patch(url, json={"selection": "2"}, token=bettor.token), 422, "match_suspended")
    snap.expect_unchanged()
    # Viewing and removing still work.
    cart = expect_json(api.get(cart_url(bettor), token=bettor.token), 200)
    assert [(i["item_id"], i["stake"], i["selection"]) for i in cart["items"]] == [(item["item_id"], 100, "1")]
    expect_status(api.delete(url, token=bettor.token), 204)


def test_checkout_with_a_suspended_item_changes_nothing(
        api, admin_token, bettor, new_match, snapshot, bets_db):
    fine, halted = new_match(), new_match()
    expect_json(add_item(api, bettor, fine, "1", 100), 201)
    halted_item = expect_json(add_item(api, bettor, halted, "2", 200), 201)
    expect_json(suspend(api, admin_token, halted["id"]), 200)
    snap = snapshot(bettor)
    for body in (None, {"accept_price_change": "any"}, {"accept_price_change": "none"}):
        kw = {} if body is None else {"json": body}
        problem = expect_problem(checkout(api, bettor, **kw), 422, "match_suspended")
        assert problem["item_ids"] == [halted_item["item_id"]], problem
    snap.expect_unchanged()
    expect_json(resume(api, admin_token, halted["id"]), 200)
    result = expect_json(checkout(api, bettor), 201)
    assert sorted((b["match_id"], b["stake"]) for b in result["bets"]) == sorted(
        [(fine["id"], 100), (halted["id"], 200)])
    assert bets_db.bet_count(user_id=bettor.id) == 2


def test_checkout_match_closed_comes_before_match_suspended(api, admin_token, bettor, new_match, snapshot):
    closing, halted = new_match(), new_match()
    expect_json(add_item(api, bettor, halted, "1", 100), 201)
    closed_item = expect_json(add_item(api, bettor, closing, "1", 100), 201)
    expect_json(suspend(api, admin_token, halted["id"]), 200)
    expect_status(settle(api, admin_token, closing["id"], "X"), 200)
    snap = snapshot(bettor)
    problem = expect_problem(checkout(api, bettor), 422, "match_closed")
    assert problem["item_ids"] == [closed_item["item_id"]]
    snap.expect_unchanged()


def test_patch_works_while_suspended(api, admin_token, suspended_match):
    match = suspended_match()
    changed = expect_json(patch_match(api, admin_token, match["id"], {"odds": {"1": 1.75}}), 200)
    assert changed["status"] == "suspended"
    assert changed["odds_version"] == 3
    assert D(changed["odds"]["1"]) == D("1.75")
    limited = expect_json(patch_match(api, admin_token, match["id"], {"max_stake": 300, "max_liability": 9000}), 200)
    assert (limited["status"], limited["odds_version"]) == ("suspended", 3)
    assert (limited["max_stake"], limited["max_liability"]) == (300, 9000)
    resumed = expect_json(resume(api, admin_token, match["id"]), 200)
    assert (resumed["status"], resumed["odds_version"], resumed["max_stake"]) == ("open", 4, 300)
    assert D(resumed["odds"]["1"]) == D("1.75")


def test_settlement_works_while_suspended(api, admin_token, new_user, new_match):
    winner, loser = new_user(balance=10_000), new_user(balance=10_000)
    match = new_match(odds={"1": 2.00, "X": 3.00, "2": 4.00})
    expect_json(place(api, winner, match, "2", 1000), 201)
    expect_json(place(api, loser, match, "1", 1000), 201)
    expect_json(suspend(api, admin_token, match["id"]), 200)
    body = expect_json(settle(api, admin_token, match["id"], "2"), 200)
    assert body["match"]["status"] == "settled" and body["match"]["result"] == "2"
    assert body["settled"] == {"won": 1, "lost": 1, "void": 0, "paid_out": 4000, "refunded": 0}
    assert user_balance(api, admin_token, winner.id) == 10_000 - 1000 + 4000
    assert user_balance(api, admin_token, loser.id) == 10_000 - 1000
    expect_consistent_ledger(api, admin_token, winner.id)
    # Settled now: neither suspend nor resume.
    expect_problem(resume(api, admin_token, match["id"]), 409, "already_settled")
    expect_problem(place(api, loser, match, "X", 100), 422, "match_closed")


def test_status_filter_lists_suspended_matches(api, admin_token, new_match):
    team = unique_team("Filter")
    halted = new_match(team_1=team, date=future_date(days=40))
    running = new_match(team_2=team, date=future_date(days=41))

    def listed(status):
        page = expect_json(api.get("/v1/matches", params={"team": team, "status": status}), 200)
        return [m["id"] for m in page["items"]], page["total"]

    # Read once so the lists are cached before the writes below.
    assert listed("open") == ([halted["id"], running["id"]], 2)
    assert listed("suspended") == ([], 0)
    expect_json(suspend(api, admin_token, halted["id"]), 200)
    assert listed("suspended") == ([halted["id"]], 1)
    assert listed("open") == ([running["id"]], 1)
    assert listed("settled") == ([], 0)
    page = expect_json(api.get("/v1/matches", params={"team": team}), 200)
    assert [(m["id"], m["status"]) for m in page["items"]] == [(halted["id"], "suspended"), (running["id"], "open")]
    expect_json(resume(api, admin_token, halted["id"]), 200)
    assert listed("suspended") == ([], 0)
    assert listed("open") == ([halted["id"], running["id"]], 2)


@pytest.mark.parametrize("query", ["status=paused", "status=Suspended", "status=closed"])
def test_unknown_status_filter_is_400(api, query):
    expect_problem(api.get("/v1/matches?" + query), 400, "invalid_parameter")


# ------------------------------------------------------------ the race

@pytest.mark.concurrency
def test_no_bet_is_taken_after_the_suspension_returned(api, base_url, admin_token, new_match, bets_db):
    """Bettors keep placing while the admin suspends the match (once some bets
    went through). Every attempt started after the suspend call returned is
    422 match_suspended; every bet the match holds was made before it
    returned, at the version before the suspension."""
    match = new_match(odds={"1": 2.00, "X": 3.00, "2": 4.00})
    users = parallel_map(base_url, admin_token, lambda a, _: create_user(a, admin_token, 100_000),
                         range(RACE_BETTORS))
    suspended = threading.Event()
    enough_placed = threading.Event()
    lock = threading.Lock()
    placed_count = [0]
    state = {}
    logs = [[] for _ in range(RACE_BETTORS)]

    def admin(client):
        enough_placed.wait(timeout=RACE_WAIT_S)
        resp = client.post(match_url(match["id"]) + "/suspend", token=admin_token)
        state["returned_at"] = dt.datetime.now(dt.timezone.utc)
        state["suspend"] = resp
        suspended.set()

    def bettor(client, user, log):
        open_selections = ["1", "X", "2"]
        after = 0
        for _ in range(MAX_TRIES):
            if not open_selections:
                # All three placed: nothing left to place before the
                # suspension; the next attempts are the ones after it.
                suspended.wait(timeout=RACE_WAIT_S)
            started_after = suspended.is_set()
            selection = open_selections[0] if open_selections else "1"
            resp = client.post("/v1/bets", json=bet_body(user, match, selection, 100), token=user.token)
            if not started_after and resp.status_code == 409 and resp.json().get("code") == "bet_in_progress":
                # This user's previous bet still held the lock: nothing was
                # decided; send it again.
                continue
            log.append((started_after, resp))
            if resp.status_code == 201 and open_selections:
                open_selections.pop(0)
                with lock:
                    placed_count[0] += 1
                    if placed_count[0] >= PLACED_BEFORE_SUSPEND:
                        enough_placed.set()
            if started_after:
                after += 1
                if after >= POST_SUSPEND_TRIES:
                    return
        pytest.fail(f"bettor {user} never saw the suspension: {[r.status_code for _, r in log]}")

    def request(client, i):
        if i == 0:
            admin(client)
        else:
            bettor(client, users[i - 1], logs[i - 1])

    run_concurrently([base_url], admin_token, RACE_BETTORS + 1, request)
    body = expect_json(state["suspend"], 200)
    assert body["status"] == "suspended" and body["odds_version"] == 2, body
    returned_at = state["returned_at"]

    attempts = [entry for log in logs for entry in log]
    created = []
    for started_after, resp in attempts:
        if started_after:
            expect_problem(resp, 422, "match_suspended")
        elif resp.status_code == 201:
            created.append(resp.json())
        else:
            expect_problem(resp, 422, "match_suspended")
    assert len(created) >= PLACED_BEFORE_SUSPEND, len(created)
    assert sum(1 for started_after, _ in attempts if started_after) >= RACE_BETTORS * POST_SUSPEND_TRIES

    # What the match holds: exactly the 201s, all made before the suspension
    # returned, at the version before it.
    held = []
    offset = 0
    while True:
        page = expect_json(api.get("/v1/bets", params={"match_id": match["id"], "limit": 100, "offset": offset},
                                   token=admin_token), 200)
        held.extend(page["items"])
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            break
    assert sorted(b["id"] for b in held) == sorted(b["id"] for b in created)
    assert bets_db.bet_count(match_id=match["id"]) == len(created)
    for bet in held:
        assert parse_time(bet["created_at"]) < returned_at, (bet, returned_at)
        assert bet["odds_version"] == 1, bet
    exposure = expect_json(api.get(match_url(match["id"]) + "/exposure", token=admin_token), 200)
    assert exposure["bets"] == len(created)
    bets_db.expect_invariant("after the suspension race")
