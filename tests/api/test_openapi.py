"""docs/openapi.yaml against the code and the running server.

Three checks keep the spec honest:
  - routes: every route registered in src/api/*.cpp is in the spec, and every
    operation of the spec is registered (a route still being written fails
    here until it lands);
  - examples: every example in the spec validates against its own schema;
  - responses: real answers of the running server validate against the
    schema the spec declares for that route and status.

Numbers are compared as exact Decimals on both sides, so `multipleOf: 0.01`
means "at most two decimals" rather than a binary-float approximation.
"""

import json
import re
import uuid
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import yaml

from api_support import describe, future_date, unique_email, unique_team

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "docs" / "openapi.yaml"
ROUTE_SOURCES = sorted((ROOT / "src" / "api").glob("*.cpp"))

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# `router.add({http::Method::post, "/v1/users", ...` (clang-format may break
# the line anywhere between the tokens).
ROUTE_ADD = re.compile(r'router\.add\(\s*\{\s*http::Method::(\w+)\s*,\s*"([^"]*)"')
# The web UI's "/" is registered through a helper (src/api/web_routes.cpp);
# the other static files have computed paths and are deliberately not in the spec.
ASSET_ROUTE = re.compile(r'add_asset_route\(\s*router\s*,\s*"([^"]*)"')
PATH_PARAM = re.compile(r"\{[^}/]*\}")


def load_spec():
    with SPEC_PATH.open(encoding="utf-8") as f:
        return yaml.safe_load(f)


SPEC = load_spec()


def normalise(path):
    """`/v1/users/{user_id}` and `/v1/users/{id}` are the same route."""
    return PATH_PARAM.sub("{}", path)


def spec_routes():
    routes = set()
    for path, item in SPEC["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                routes.add((method.upper(), normalise(path)))
    return routes


def server_routes():
    routes = set()
    for source in ROUTE_SOURCES:
        text = source.read_text(encoding="utf-8")
        for method, path in ROUTE_ADD.findall(text):
            routes.add(({"del": "delete"}.get(method, method).upper(), normalise(path)))
        for path in ASSET_ROUTE.findall(text):
            routes.add(("GET", normalise(path)))
    return routes


SPEC_ROUTES = sorted(spec_routes())
SERVER_ROUTES = sorted(server_routes())


def route_id(route):
    return f"{route[0]} {route[1]}"


# ------------------------------------------------------------------ helpers

def to_decimal(node):
    """The spec with every float as the Decimal it was written as (0.01 stays 0.01)."""
    if isinstance(node, float):
        return Decimal(repr(node))
    if isinstance(node, dict):
        return {k: to_decimal(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_decimal(v) for v in node]
    return node


DECIMAL_SPEC = to_decimal(SPEC)


def deref(node):
    """Follows a non-schema `$ref` (a response, parameter) inside the spec."""
    while isinstance(node, dict) and "$ref" in node:
        target = DECIMAL_SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def validator_for(schema):
    """A 2020-12 validator whose `#/components/...` refs resolve inside the spec."""
    root = dict(schema)
    root["components"] = DECIMAL_SPEC["components"]
    jsonschema.Draft202012Validator.check_schema(root)
    return jsonschema.Draft202012Validator(root)


def operation(method, path):
    item = SPEC["paths"].get(path)
    assert item is not None, f"{path} is not in docs/openapi.yaml"
    op = item.get(method.lower())
    assert op is not None, f"{method} {path} is not in docs/openapi.yaml"
    return op


def declared_response(method, path, status):
    op = deref(DECIMAL_SPEC["paths"][path][method.lower()])
    responses = op["responses"]
    response = responses.get(str(status))
    assert response is not None, (
        f"{method} {path} answered {status}, which the spec does not list "
        f"(it lists {sorted(responses)})")
    return deref(response)


def check_against_spec(method, path, resp, status):
    """Asserts that `resp` has `status` and is an answer the spec declares for method + path."""
    operation(method, path)
    assert resp.status_code == status, describe(resp)
    response = declared_response(method, path, resp.status_code)
    assert resp.headers.get("X-Request-Id"), f"no X-Request-Id: {describe(resp)}"
    content = response.get("content")
    if not content:
        assert not resp.content, f"the spec declares no body: {describe(resp)}"
        return None
    media_type = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
    assert media_type in content, (
        f"Content-Type {media_type!r} is not one of {sorted(content)}: {describe(resp)}")
    if not media_type.endswith("json"):
        return resp.text
    body = json.loads(resp.content, parse_float=Decimal)
    errors = sorted(validator_for(content[media_type]["schema"]).iter_errors(body), key=str)
    assert not errors, (
        f"{method} {path} -> {resp.status_code} does not match the spec:\n"
        + "\n".join(f"  at {list(e.absolute_path)}: {e.message}" for e in errors[:10])
        + f"\n{describe(resp)}")
    return body


# ------------------------------------------------------------------ the spec itself

def test_spec_is_openapi_3_1_with_components():
    assert SPEC["openapi"].startswith("3.1"), SPEC["openapi"]
    assert {"schemas", "responses", "parameters", "securitySchemes"} <= SPEC["components"].keys()


def test_route_parser_finds_the_known_routes():
    """Guards the regex: if the registration style changes, this fails first."""
    found = set(SERVER_ROUTES)
    for route in [("POST", "/v1/users"), ("GET", "/v1/users/{}"), ("PATCH", "/v1/matches/{}"),
                  ("GET", "/healthz"), ("GET", "/readyz")]:
        assert route in found, f"{route_id(route)} not found in {[str(p) for p in ROUTE_SOURCES]}"


@pytest.mark.parametrize("route", SERVER_ROUTES, ids=route_id)
def test_server_route_is_in_spec(route):
    documented = route in set(SPEC_ROUTES)
    assert documented, (
        f"{route_id(route)} is registered in src/api but missing from docs/openapi.yaml")


@pytest.mark.parametrize("route", SPEC_ROUTES, ids=route_id)
def test_spec_route_is_registered(route):
    registered = route in set(SERVER_ROUTES)
    assert registered, (
        f"{route_id(route)} is in docs/openapi.yaml but no src/api/*.cpp registers it")


def _examples():
    """(id, schema, example) for every success response and request body with an example."""
    found = []
    for path, item in DECIMAL_SPEC["paths"].items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = deref(op.get("requestBody", {}))
            for media_type, media in body.get("content", {}).items():
                if "example" in media and media_type.endswith("json"):
                    found.append((f"{method.upper()} {path} request", media["schema"], media["example"]))
            for status, response in op["responses"].items():
                response = deref(response)
                for media_type, media in response.get("content", {}).items():
                    if "example" in media and media_type.endswith("json"):
                        found.append((f"{method.upper()} {path} {status}", media["schema"], media["example"]))
    return found


EXAMPLES = _examples()


def test_every_success_response_has_an_example():
    missing = []
    for path, item in SPEC["paths"].items():
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            for status, response in op["responses"].items():
                if not status.startswith("2"):
                    continue
                for media_type, media in deref(response).get("content", {}).items():
                    if "example" not in media:
                        missing.append(f"{method.upper()} {path} {status} {media_type}")
    assert not missing, missing


@pytest.mark.parametrize("schema, example", [(s, e) for _, s, e in EXAMPLES],
                         ids=[name for name, _, _ in EXAMPLES])
def test_example_matches_its_schema(schema, example):
    errors = sorted(validator_for(schema).iter_errors(example), key=str)
    assert not errors, "\n".join(f"at {list(e.absolute_path)}: {e.message}" for e in errors[:10])


def test_odds_schema_refuses_a_third_decimal():
    """The Decimal comparison really is exact: 2.10 passes, 2.105 does not."""
    odds = validator_for({"$ref": "#/components/schemas/Odds"})
    assert odds.is_valid(Decimal("2.10"))
    assert odds.is_valid(Decimal("1000.00"))
    assert not odds.is_valid(Decimal("2.105"))
    assert not odds.is_valid(Decimal("1.00"))


# ------------------------------------------------------------------ live answers

def test_sign_up_and_read_user_match_spec(api):
    resp = api.post("/v1/users", json={"email": unique_email(), "name": "Ann"})
    user = check_against_spec("POST", "/v1/users", resp, 201)
    resp = api.get(f"/v1/users/{user['id']}", token=user["token"])
    check_against_spec("GET", "/v1/users/{user_id}", resp, 200)
    resp = api.post("/v1/users", json={"email": user["email"], "name": "Ann"})
    assert check_against_spec("POST", "/v1/users", resp, 409)["code"] == "email_taken"


def test_deposit_and_ledger_match_spec(api, admin_token, new_user):
    user = new_user()
    resp = api.post(f"/v1/users/{user.id}/deposits", json={"amount": 10_000}, token=admin_token)
    check_against_spec("POST", "/v1/users/{user_id}/deposits", resp, 201)
    resp = api.get(f"/v1/users/{user.id}/transactions", token=user.token)
    page = check_against_spec("GET", "/v1/users/{user_id}/transactions", resp, 200)
    assert len(page["items"]) == 1


def test_match_create_read_list_patch_match_spec(api, admin_token):
    team = unique_team("Home")
    body = {"team_1": team, "team_2": unique_team("Away"), "date": future_date(),
            "odds": {"1": 2.10, "X": 3.25, "2": 3.60}}
    resp = api.post("/v1/matches", json=body, token=admin_token)
    match = check_against_spec("POST", "/v1/matches", resp, 201)
    check_against_spec("GET", "/v1/matches/{match_id}", api.get(f"/v1/matches/{match['id']}"), 200)
    page = check_against_spec("GET", "/v1/matches", api.get("/v1/matches", params={"team": team}), 200)
    assert [m["id"] for m in page["items"]] == [match["id"]]
    resp = api.patch(f"/v1/matches/{match['id']}", json={"odds": {"X": None}}, token=admin_token)
    assert "X" not in check_against_spec("PATCH", "/v1/matches/{match_id}", resp, 200)["odds"]


def test_competition_and_search_match_spec(api, admin_token):
    tag = uuid.uuid4().hex[:12]
    body = {"team_1": f"Arsenal FC {tag}", "team_2": unique_team("Away"), "date": future_date(),
            "odds": {"1": 2.10, "X": 3.25, "2": 3.60}, "competition": f"Premier League {tag}"}
    match = check_against_spec("POST", "/v1/matches", api.post("/v1/matches", json=body, token=admin_token), 201)
    resp = api.get("/v1/matches", params={"q": f"arsenal fc {tag}", "competition": body["competition"]})
    page = check_against_spec("GET", "/v1/matches", resp, 200)
    assert [m["id"] for m in page["items"]] == [match["id"]]
    resp = api.patch(f"/v1/matches/{match['id']}", json={"competition": None}, token=admin_token)
    assert check_against_spec("PATCH", "/v1/matches/{match_id}", resp, 200)["competition"] is None
    check_against_spec("GET", "/v1/matches", api.get("/v1/matches?q=a"), 400)


def test_user_search_matches_spec(api, admin_token, new_user):
    user = new_user(name=f"Spec {uuid.uuid4().hex}")
    page = check_against_spec("GET", "/v1/users", api.get("/v1/users", params={"q": user.email},
                                                          token=admin_token), 200)
    assert [u["id"] for u in page["items"]] == [user.id]
    check_against_spec("GET", "/v1/users", api.get("/v1/users", token=admin_token), 200)
    check_against_spec("GET", "/v1/users", api.get("/v1/users?q=a", token=admin_token), 400)
    check_against_spec("GET", "/v1/users", api.get("/v1/users"), 401)
    check_against_spec("GET", "/v1/users", api.get("/v1/users", token=user.token), 403)


def test_problem_answers_match_spec(api, admin_token, new_user):
    check_against_spec("GET", "/v1/matches/{match_id}", api.get("/v1/matches/2000000000"), 404)
    check_against_spec("GET", "/v1/matches/{match_id}", api.get("/v1/matches/007"), 404)
    check_against_spec("GET", "/v1/matches", api.get("/v1/matches?limit=0"), 400)
    resp = api.post("/v1/matches", json={"team_1": "A"}, token=admin_token)
    check_against_spec("POST", "/v1/matches", resp, 422)
    resp = api.post("/v1/matches", body="{", token=admin_token)
    check_against_spec("POST", "/v1/matches", resp, 400)
    resp = api.post("/v1/matches", json={}, token=new_user().token)
    check_against_spec("POST", "/v1/matches", resp, 403)
    check_against_spec("GET", "/v1/users/{user_id}", api.get("/v1/users/1"), 401)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/"])
def test_operations_route_matches_spec(api, path):
    check_against_spec("GET", path, api.get(path), 200)


def test_bet_routes_match_spec(api, admin_token, new_user, new_match):
    user = new_user(balance=50_000)
    match = new_match()
    bet_body = {"user_id": user.id, "match_id": match["id"], "selection": "1", "stake": 1000}
    resp = api.post("/v1/bets", json=bet_body, token=user.token, headers={"Idempotency-Key": str(uuid.uuid4())})
    bet = check_against_spec("POST", "/v1/bets", resp, 201)
    resp = api.post("/v1/bets", json=bet_body, token=user.token)
    assert check_against_spec("POST", "/v1/bets", resp, 409)["code"] == "duplicate_bet"
    check_against_spec("GET", "/v1/bets/{bet_id}", api.get(f"/v1/bets/{bet['id']}", token=user.token), 200)
    resp = api.get(f"/v1/users/{user.id}/bets", token=user.token)
    page = check_against_spec("GET", "/v1/users/{user_id}/bets", resp, 200)
    assert [b["id"] for b in page["items"]] == [bet["id"]]
    resp = api.get(f"/v1/bets?match_id={match['id']}", token=admin_token)
    check_against_spec("GET", "/v1/bets", resp, 200)
    check_against_spec("GET", "/v1/bets/summary", api.get("/v1/bets/summary", token=admin_token), 200)
    resp = api.post(f"/v1/matches/{match['id']}/result", json={"result": "1"}, token=admin_token)
    settled = check_against_spec("POST", "/v1/matches/{match_id}/result", resp, 200)
    assert settled["settled"]["won"] == 1


def test_settlement_matches_spec(api, admin_token, new_match):
    match = new_match()
    resp = api.post(f"/v1/matches/{match['id']}/result", json={"result": "void"}, token=admin_token)
    assert check_against_spec("POST", "/v1/matches/{match_id}/result", resp, 200)["match"]["result"] == "void"
    resp = api.post(f"/v1/matches/{match['id']}/result", json={"result": "X"}, token=admin_token)
    assert check_against_spec("POST", "/v1/matches/{match_id}/result", resp, 409)["code"] == "already_settled"


def test_cart_routes_match_spec(api, new_user, new_match):
    user = new_user(balance=50_000)
    match = new_match()
    base = f"/v1/users/{user.id}/cart"
    check_against_spec("GET", "/v1/users/{user_id}/cart", api.get(base, token=user.token), 200)
    resp = api.post(base + "/items", json={"match_id": match["id"], "selection": "X", "stake": 700},
                    token=user.token)
    item = check_against_spec("POST", "/v1/users/{user_id}/cart/items", resp, 201)
    resp = api.patch(f"{base}/items/{item['item_id']}", json={"stake": 800}, token=user.token)
    check_against_spec("PATCH", "/v1/users/{user_id}/cart/items/{item_id}", resp, 200)
    cart = check_against_spec("GET", "/v1/users/{user_id}/cart", api.get(base, token=user.token), 200)
    assert cart["total_stake"] == 800
    resp = api.post(base + "/checkout", token=user.token)
    check_against_spec("POST", "/v1/users/{user_id}/cart/checkout", resp, 201)
    resp = api.post(base + "/checkout", json={}, token=user.token)
    assert check_against_spec("POST", "/v1/users/{user_id}/cart/checkout", resp, 422)["code"] == "cart_empty"
    resp = api.delete(f"{base}/items/{item['item_id']}", token=user.token)
    assert check_against_spec("DELETE", "/v1/users/{user_id}/cart/items/{item_id}", resp, 404)["code"] \
        == "item_not_found"
    check_against_spec("DELETE", "/v1/users/{user_id}/cart", api.delete(base, token=user.token), 204)
