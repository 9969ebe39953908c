"""Group commit (issue 24, docs/architecture.md "Placing in batches"):
placements that arrive together share one statement and one commit, and
each still gets its own answer, as if it had been placed alone.

Batches are seen through /metrics (betsdb_placement_batches_total by the
placements they carried); the answers, balances, bets and the ledger are
checked against what each request alone would have done.
"""

import pytest

from api_support import expect_json, expect_problem
from bet_support import BetsDb, bet_body, run_concurrently
from cache_support import scrape
from trading_support import added, cart_url

BATCHES = "betsdb_placement_batches_total"
ASKS = "betsdb_placement_batch_asks_total"
# Rounds of concurrent placements until one shared a statement: with
# 40 placements started together and two statements per shard, the first
# round nearly always queues some; the bound keeps a slow machine honest.
MAX_ROUNDS = 5


def shared_batches(base_url):
    """Statements that carried two placements or more, so far."""
    return sum(value for (name, labels), value in scrape(base_url).items()
               if name == BATCHES and dict(labels).get("asks") != "1")


@pytest.mark.concurrency
def test_placements_that_arrive_together_share_statements_and_keep_their_own_answers(
        api, admin_token, base_url, new_user, new_match, db):
    bets_db = BetsDb(db)
    batched = False
    for round_no in range(MAX_ROUNDS):
        matches = [new_match() for _ in range(4)]
        fine = [new_user(balance=10_000) for _ in range(30)]
        poor = [new_user(balance=500) for _ in range(3)]
        repeat = [new_user(balance=10_000) for _ in range(3)]
        carts = [new_user(balance=10_000) for _ in range(4)]
        for user in repeat:
            expect_json(api.post("/v1/bets", json=bet_body(user, matches[0], "X", 100),
                                 token=user.token), 201)
        for user in carts:
            added(api, user, matches[1], "2", 700)
            added(api, user, matches[2], "1", 300)

        work = ([("bet", u, bet_body(u, matches[i % 4], "1X2"[i % 3], 1000)) for i, u in enumerate(fine)]
                + [("bet", u, bet_body(u, matches[3], "1", 1000)) for u in poor]
                + [("bet", u, bet_body(u, matches[0], "X", 100)) for u in repeat]
                + [("checkout", u, None) for u in carts])
        before = shared_batches(base_url)
        asks_before = scrape(base_url)[(ASKS, frozenset())]

        def send(client, i):
            kind, user, body = work[i]
            if kind == "bet":
                return client.post("/v1/bets", json=body, token=user.token)
            return client.post(cart_url(user) + "/checkout", token=user.token)

        responses = run_concurrently([base_url], admin_token, len(work), send)
        for (kind, user, body), resp in zip(work, responses):
            if user in fine:
                bet = expect_json(resp, 201)
                assert (bet["user_id"], bet["match_id"], bet["selection"]) == \
                    (user.id, body["match_id"], body["selection"])
                assert bet["stake"] == 1000
            elif user in poor:
                expect_problem(resp, 422, "insufficient_funds")
            elif user in repeat:
                expect_problem(resp, 409, "duplicate_bet")
            else:
                placed = expect_json(resp, 201)
                assert sorted(b["stake"] for b in placed["bets"]) == [300, 700], placed
        for user in fine:
            assert db.balance(user.id) == 9_000
            assert bets_db.bet_count(user_id=user.id) == 1
        for user in poor:
            assert db.balance(user.id) == 500
            assert bets_db.bet_count(user_id=user.id) == 0
        for user in repeat:
            assert db.balance(user.id) == 9_900
            assert bets_db.bet_count(user_id=user.id) == 1
        for user in carts:
            assert db.balance(user.id) == 9_000
            assert bets_db.bet_count(user_id=user.id) == 2
        bets_db.expect_invariant(f"round {round_no}:")
        # Every placement went through the group commit, batched or alone.
        assert scrape(base_url)[(ASKS, frozenset())] - asks_before >= len(work)
        if shared_batches(base_url) > before:
            batched = True
            break
    assert batched, f"no two of {len(work)} concurrent placements shared a statement in {MAX_ROUNDS} rounds"
