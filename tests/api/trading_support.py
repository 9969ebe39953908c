"""Helpers shared by the trading tests (test_trading_*.py) and the cart
tests: exact odds arithmetic, match and bet requests, cart requests, and
`Snapshot`, which proves a refused write changed nothing (conftest.py's
`snapshot` fixture makes them)."""

from decimal import ROUND_FLOOR, Decimal

import redis_keys
from api_support import expect_json
from bet_support import bet_body


def D(value):
    return Decimal(str(value))


def payout(stake, odds):
    return int((Decimal(stake) * D(odds)).to_integral_value(rounding=ROUND_FLOOR))


def match_url(match_id):
    return f"/v1/matches/{match_id}"


def get_match(api, match_id):
    return expect_json(api.get(match_url(match_id)), 200)


def patch_match(api, admin_token, match_id, body):
    return api.patch(match_url(match_id), json=body, token=admin_token)


def patched(api, admin_token, match_id, body):
    return expect_json(patch_match(api, admin_token, match_id, body), 200)


def place(api, user, match, selection="1", stake=1000, **extra):
    """POST /v1/bets with optional "odds" / "accept_price_change" (extra)."""
    body = bet_body(user, match, selection, stake)
    body.update(extra)
    return api.post("/v1/bets", json=body, token=user.token)


def cart_url(user):
    return f"/v1/users/{user.id}/cart"


def add_item(api, user, match, selection="1", stake=1000):
    body = {"match_id": match["id"], "selection": selection, "stake": stake}
    return api.post(cart_url(user) + "/items", json=body, token=user.token)


def added(api, user, match, selection="1", stake=1000):
    return expect_json(add_item(api, user, match, selection, stake), 201)


def checkout(api, user, **kw):
    return api.post(cart_url(user) + "/checkout", token=user.token, **kw)


class Snapshot:
    """A user's balance, ledger, bets and cart contents, to compare after a refusal."""

    def __init__(self, db, bets_db, redis, user):
        self.db, self.bets_db, self.redis, self.user = db, bets_db, redis, user
        self.before = self._take()

    def _take(self):
        return {
            "balance": self.db.balance(self.user.id),
            "ledger_rows": self.db.ledger_rows(self.user.id),
            "bets": self.bets_db.bet_count(user_id=self.user.id),
            "cart": self.redis.hgetall(redis_keys.cart(self.user.id)),
        }

    def expect_unchanged(self):
        assert self._take() == self.before, f"{self.user} changed: {self.before} -> {self._take()}"

