"""Matches: create, read, list, change odds (API.md: Matches)."""

import json
from decimal import Decimal

import pytest

from api_support import (
    MATCH_KEYS,
    expect_json,
    expect_page,
    expect_problem,
    expect_status,
    expect_timestamp,
    expect_validation_failed,
    future_date,
    is_positive_int,
    json_decimal,
    past_date,
    unique_team,
)

MISSING_MATCH_ID = 2_000_000_000


def match_body(team_1=None, team_2=None, date=None, odds=None):
    return {
        "team_1": team_1 or unique_team("Home"),
        "team_2": team_2 or unique_team("Away"),
        "date": date or future_date(),
        "odds": odds if odds is not None else {"1": 2.10, "X": 3.25, "2": 3.60},
    }


def raw_match_body(odds_text, team_1=None, team_2=None, date=None):
    """A body whose odds object is spliced in verbatim, so "2.10" stays "2.10"."""
    team_1 = team_1 or unique_team("Home")
    team_2 = team_2 or unique_team("Away")
    date = date or future_date()
    return ('{"team_1":%s,"team_2":%s,"date":%s,"odds":%s}'
            % (json.dumps(team_1), json.dumps(team_2), json.dumps(date), odds_text)), team_1


# ------------------------------------------------------------------ create

def test_admin_creates_match_201_open_without_result(api, admin_token):
    body = match_body(date="2031-12-01T19:45:00Z")
    resp = api.post("/v1/matches", json=body, token=admin_token)
    match = expect_json(resp, 201)
    assert set(match.keys()) == MATCH_KEYS
    assert is_positive_int(match["id"])
    assert match["team_1"] == body["team_1"]
    assert match["team_2"] == body["team_2"]
    assert match["date"] == "2031-12-01T19:45:00Z"
    assert json_decimal(resp)["odds"] == {"1": Decimal("2.10"), "X": Decimal("3.25"), "2": Decimal("3.60")}
    assert match["status"] == "open"
    assert match["result"] is None
    expect_timestamp(match["created_at"])


def test_match_may_offer_a_subset_of_selections(api, admin_token):
    resp = api.post("/v1/matches", json=match_body(odds={"X": 3.1}), token=admin_token)
    expect_status(resp, 201)
    assert json_decimal(resp)["odds"] == {"X": Decimal("3.1")}


def test_create_match_without_token_is_401(api, db):
    body = match_body()
    expect_problem(api.post("/v1/matches", json=body), 401, "unauthorized")
    assert db.matches_with_team(body["team_1"]) == 0


def test_create_match_with_user_token_is_403(api, new_user, db):
    body = match_body()
    expect_problem(api.post("/v1/matches", json=body, token=new_user().token), 403, "forbidden")
    assert db.matches_with_team(body["team_1"]) == 0


def test_create_match_with_unknown_token_is_401(api):
    expect_problem(api.post("/v1/matches", json=match_body(), token="not-a-real-token"), 401, "unauthorized")


@pytest.mark.parametrize(
    "odds_text, expected",
    [
        ("2.10", Decimal("2.1")),
        ("2.100", Decimal("2.1")),
        ("2.1000000000000000000000", Decimal("2.1")),
        ("2", Decimal("2")),
        ("1.01", Decimal("1.01")),
        ("1000.00", Decimal("1000")),
        ("1000", Decimal("1000")),
        ("999.99", Decimal("999.99")),
        ("21e-1", Decimal("2.1")),
        ("1E3", Decimal("1000")),
    ],
)
def test_odds_with_at_most_two_decimals_are_stored_exactly(api, admin_token, odds_text, expected):
    raw, team_1 = raw_match_body('{"1":%s}' % odds_text)
    resp = api.post("/v1/matches", body=raw, token=admin_token)
    expect_status(resp, 201)
    assert json_decimal(resp)["odds"] == {"1": expected}
    # ... and read back from storage unchanged (no binary-float drift).
    match_id = resp.json()["id"]
    assert json_decimal(api.get(f"/v1/matches/{match_id}"))["odds"] == {"1": expected}


@pytest.mark.parametrize(
    "odds_text",
    ["2.105", "2.1000000001", "2.10000000000000001", "1.00", "1", "1.009", "0.5", "0",
     "-2.10", "1000.01", "1000.001", "1001", "1e30", '"2.10"', "true", "null",
     "{}", "[2.1]"],
)
def test_odds_out_of_range_or_over_two_decimals_are_422(api, admin_token, db, odds_text):
    raw, team_1 = raw_match_body('{"1":%s,"X":3.25}' % odds_text)
    expect_validation_failed(api.post("/v1/matches", body=raw, token=admin_token))
    assert db.matches_with_team(team_1) == 0


def test_teams_are_trimmed(api, admin_token):
    t1, t2 = unique_team("Trim"), unique_team("Trim")
    match = expect_json(
        api.post("/v1/matches", json=match_body(team_1=f"  {t1}\t", team_2=f" {t2} "), token=admin_token), 201)
    assert match["team_1"] == t1
    assert match["team_2"] == t2


def test_team_of_100_characters_is_accepted(api, admin_token):
    team = (unique_team("Long") + "x" * 100)[:100]
    match = expect_json(api.post("/v1/matches", json=match_body(team_1=team), token=admin_token), 201)
    assert match["team_1"] == team


@pytest.mark.parametrize(
    "team_1, team_2",
    [("Same {u}", "same {U}"), ("Same {u}", "  Same {u} "), ("Same {u}", "Same {u}")],
    ids=["case", "spaces", "identical"],
)
def test_same_team_on_both_sides_ignoring_case_is_422(api, admin_token, db, team_1, team_2):
    u = unique_team("")[1:]
    t1, t2 = team_1.format(u=u, U=u.upper()), team_2.format(u=u, U=u.upper())
    expect_validation_failed(api.post("/v1/matches", json=match_body(team_1=t1, team_2=t2), token=admin_token))
    assert db.matches_with_team(t1) == 0


@pytest.mark.parametrize(
    "field, value",
    [
        ("team_1", ""), ("team_1", "   "), ("team_1", "t" * 101), ("team_1", None), ("team_1", 7),
        ("team_2", ""), ("team_2", "t" * 101), ("team_2", ["A"]),
        ("date", "not a date"), ("date", "2031-13-01T19:45:00Z"), ("date", "2031-02-30T19:45:00Z"),
        ("date", "2031-12-01"), ("date", "2031-12-01T25:00:00Z"), ("date", ""), ("date", None),
        ("date", 1900000000),
        ("odds", {}), ("odds", {"3": 2.5}), ("odds", {"x": 2.5}), ("odds", {"1": 2.5, "draw": 3.0}),
        ("odds", {"1": None}), ("odds", [2.1, 3.2, 3.6]), ("odds", None), ("odds", "2.10"),
    ],
)
def test_invalid_match_field_is_422_naming_it(api, admin_token, db, field, value):
    body = match_body()
    body[field] = value
    resp = api.post("/v1/matches", json=body, token=admin_token)
    expect_validation_failed(resp, field)
    for team in (body["team_1"], body["team_2"]):
        if isinstance(team, str) and team.strip():
            assert db.matches_with_team(team.strip()) == 0


@pytest.mark.parametrize("field", ["team_1", "team_2", "date", "odds"])
def test_missing_match_field_is_422_naming_it(api, admin_token, field):
    body = match_body()
    del body[field]
    expect_validation_failed(api.post("/v1/matches", json=body, token=admin_token), field)


def test_unknown_match_field_is_422(api, admin_token, db):
    body = dict(match_body(), venue="Emirates")
    expect_validation_failed(api.post("/v1/matches", json=body, token=admin_token), "venue")
    assert db.matches_with_team(body["team_1"]) == 0


def test_status_and_result_cannot_be_set_on_create(api, admin_token):
    expect_validation_failed(
        api.post("/v1/matches", json=dict(match_body(), status="settled"), token=admin_token), "status")
    expect_validation_failed(
        api.post("/v1/matches", json=dict(match_body(), result="1"), token=admin_token), "result")


def test_match_in_the_past_is_allowed_and_open(api, admin_token):
    date = past_date(days=3)
    match = expect_json(api.post("/v1/matches", json=match_body(date=date), token=admin_token), 201)
    assert match["date"] == date
    assert match["status"] == "open"
    assert match["result"] is None


def test_same_teams_and_date_twice_is_409_duplicate_match(api, admin_token, db):
    body = match_body()
    expect_json(api.post("/v1/matches", json=body, token=admin_token), 201)
    again = dict(body, odds={"1": 1.5})
    expect_problem(api.post("/v1/matches", json=again, token=admin_token), 409, "duplicate_match")
    assert db.matches_with_team(body["team_1"]) == 1


def test_duplicate_match_is_detected_after_trimming(api, admin_token, db):
    body = match_body()
    expect_json(api.post("/v1/matches", json=body, token=admin_token), 201)
    padded = dict(body, team_1=f"  {body['team_1']}  ")
    expect_problem(api.post("/v1/matches", json=padded, token=admin_token), 409, "duplicate_match")
    assert db.matches_with_team(body["team_1"]) == 1


def test_swapped_teams_are_another_match(api, admin_token):
    body = match_body()
    first = expect_json(api.post("/v1/matches", json=body, token=admin_token), 201)
    swapped = dict(body, team_1=body["team_2"], team_2=body["team_1"])
    second = expect_json(api.post("/v1/matches", json=swapped, token=admin_token), 201)
    assert second["id"] != first["id"]
    assert (second["team_1"], second["team_2"]) == (body["team_2"], body["team_1"])


def test_same_teams_on_another_date_are_another_match(api, admin_token):
    body = match_body(date=future_date(days=10))
    expect_json(api.post("/v1/matches", json=body, token=admin_token), 201)
    expect_json(api.post("/v1/matches", json=dict(body, date=future_date(days=11)), token=admin_token), 201)


# -------------------------------------------------------------------- read

def test_get_match_is_public_and_returns_the_match(api, new_match):
    match = new_match()
    assert expect_json(api.get(f"/v1/matches/{match['id']}"), 200) == match


def test_get_match_with_user_or_admin_token(api, new_match, new_user, admin_token):
    match = new_match()
    assert expect_json(api.get(f"/v1/matches/{match['id']}", token=new_user().token), 200) == match
    assert expect_json(api.get(f"/v1/matches/{match['id']}", token=admin_token), 200) == match


def test_get_missing_match_is_404_match_not_found(api):
    expect_problem(api.get(f"/v1/matches/{MISSING_MATCH_ID}"), 404, "match_not_found")


@pytest.mark.parametrize("bad_id", ["abc", "0", "-3", "2.5"])
def test_get_match_with_bad_id_is_404_not_found(api, bad_id):
    expect_problem(api.get(f"/v1/matches/{bad_id}"), 404, "not_found")


# -------------------------------------------------------------------- list

def _list(api, **params):
    return expect_json(api.get("/v1/matches", params=params), 200)


def test_list_shape_and_default_paging(api, new_match):
    match = new_match()
    page = _list(api, team=match["team_1"])
    expect_page(page, total=1, limit=20, offset=0)
    assert page["items"] == [match]


def test_list_without_parameters_uses_defaults(api, new_match):
    new_match()
    page = _list(api)
    assert page["limit"] == 20 and page["offset"] == 0
    assert page["total"] >= 1
    assert 1 <= len(page["items"]) <= 20
    for item in page["items"]:
        assert set(item.keys()) == MATCH_KEYS


def test_list_default_limit_is_20(api, new_match):
    team = unique_team("Many")
    for day in range(21):
        new_match(team_1=team, date=future_date(days=10 + day))
    page = _list(api, team=team)
    expect_page(page, total=21, limit=20, offset=0)
    assert len(page["items"]) == 20


def test_list_team_filter_matches_either_side_ignoring_case(api, new_match):
    team = unique_team("Either")
    home = new_match(team_1=team, date=future_date(days=5))
    away = new_match(team_2=team, date=future_date(days=6))
    new_match(date=future_date(days=5))  # unrelated
    for spelling in (team, team.upper(), team.lower()):
        page = _list(api, team=spelling)
        expect_page(page, total=2, limit=20, offset=0)
        assert [m["id"] for m in page["items"]] == [home["id"], away["id"]]


def test_list_team_filter_is_exact_not_substring(api, new_match):
    team = unique_team("Exact")
    new_match(team_1=team)
    assert _list(api, team=team[:-1])["total"] == 0
    assert _list(api, team=team + "x")["total"] == 0


def test_list_status_filters_the_stored_status(api, new_match):
    team = unique_team("Status")
    past = new_match(team_1=team, date=past_date(days=2))  # closed for betting, but stored "open"
    future = new_match(team_1=team, date=future_date(days=2))
    page = _list(api, team=team, status="open")
    assert [m["id"] for m in page["items"]] == [past["id"], future["id"]]
    expect_page(_list(api, team=team, status="settled"), total=0, limit=20, offset=0)


def test_list_from_and_to_are_inclusive(api, new_match):
    team = unique_team("Range")
    d1, d2, d3 = "2032-03-01T10:00:00Z", "2032-03-02T10:00:00Z", "2032-03-03T10:00:00Z"
    m1, m2, m3 = (new_match(team_1=team, date=d) for d in (d1, d2, d3))

    def ids(**params):
        return [m["id"] for m in _list(api, team=team, **params)["items"]]

    assert ids(**{"from": d2}) == [m2["id"], m3["id"]]
    assert ids(to=d2) == [m1["id"], m2["id"]]
    assert ids(**{"from": d2, "to": d2}) == [m2["id"]]
    assert ids(**{"from": d1, "to": d3}) == [m1["id"], m2["id"], m3["id"]]
    assert ids(**{"from": "2032-03-02T10:00:01Z"}) == [m3["id"]]
    assert ids(to="2032-03-02T09:59:59Z") == [m1["id"]]
    assert ids(**{"from": d3, "to": d1}) == []


def test_list_sorts_by_date_ascending_by_default_and_descending_with_minus(api, new_match):
    team = unique_team("Sort")
    later = new_match(team_1=team, date=future_date(days=9))
    earlier = new_match(team_1=team, date=future_date(days=3))
    middle = new_match(team_1=team, date=future_date(days=6))
    ascending = [earlier["id"], middle["id"], later["id"]]
    assert [m["id"] for m in _list(api, team=team)["items"]] == ascending
    assert [m["id"] for m in _list(api, team=team, sort="date")["items"]] == ascending
    assert [m["id"] for m in _list(api, team=team, sort="-date")["items"]] == ascending[::-1]


def test_list_paging_with_limit_and_offset(api, new_match):
    team = unique_team("Page")
    made = [new_match(team_1=team, date=future_date(days=d)) for d in (1, 2, 3)]
    page = _list(api, team=team, limit=2)
    expect_page(page, total=3, limit=2, offset=0)
    assert [m["id"] for m in page["items"]] == [made[0]["id"], made[1]["id"]]
    page = _list(api, team=team, limit=2, offset=2)
    expect_page(page, total=3, limit=2, offset=2)
    assert [m["id"] for m in page["items"]] == [made[2]["id"]]
    page = _list(api, team=team, offset=3)
    expect_page(page, total=3, limit=20, offset=3)
    assert page["items"] == []


def test_list_limit_bounds_1_and_100_are_accepted(api, new_match):
    match = new_match()
    expect_page(_list(api, team=match["team_1"], limit=1), total=1, limit=1, offset=0)
    expect_page(_list(api, team=match["team_1"], limit=100), total=1, limit=100, offset=0)


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "limit=-1", "limit=abc", "limit=", "limit=2.0", "offset=-1", "offset=x",
     "status=closed", "status=", "status=pending", "sort=team", "sort=%2Bdate", "sort=-created_at",
     "from=yesterday", "from=2031-12-01", "to=2031-13-01T00:00:00Z", "to=",
     "team=A&team=B", "limit=5&limit=5", "sort=date&sort=date", "page=2", "Team=A",
     "match_id=1"],
)
def test_bad_list_query_is_400_invalid_parameter(api, query):
    expect_problem(api.get(f"/v1/matches?{query}"), 400, "invalid_parameter")


def test_list_sees_a_new_match_at_once_despite_caching(api, new_match):
    team = unique_team("Fresh")
    expect_page(_list(api, team=team), total=0, limit=20, offset=0)  # may now be cached
    match = new_match(team_1=team)
    page = _list(api, team=team)
    assert [m["id"] for m in page["items"]] == [match["id"]]


def test_list_sees_new_odds_at_once_despite_caching(api, new_match, admin_token):
    match = new_match()
    _list(api, team=match["team_1"])  # may now be cached
    expect_json(api.patch(f"/v1/matches/{match['id']}", json={"odds": {"1": 1.95}}, token=admin_token), 200)
    resp = api.get("/v1/matches", params={"team": match["team_1"]})
    assert json_decimal(resp)["items"][0]["odds"]["1"] == Decimal("1.95")


# ------------------------------------------------------------- patch odds

def test_patch_odds_updates_named_selections_only(api, new_match, admin_token):
    match = new_match(odds={"1": 2.10, "X": 3.25, "2": 3.60})
    resp = api.patch(f"/v1/matches/{match['id']}", json={"odds": {"1": 1.95}}, token=admin_token)
    expect_json(resp, 200)
    expected = {"1": Decimal("1.95"), "X": Decimal("3.25"), "2": Decimal("3.60")}
    patched = json_decimal(resp)
    assert patched["odds"] == expected
    assert {k: v for k, v in patched.items() if k != "odds"} == {
        k: v for k, v in json_decimal(api.get(f"/v1/matches/{match['id']}")).items() if k != "odds"}
    assert json_decimal(api.get(f"/v1/matches/{match['id']}"))["odds"] == expected


def test_patch_keeps_the_other_match_fields(api, new_match, admin_token):
    match = new_match()
    patched = expect_json(api.patch(f"/v1/matches/{match['id']}", json={"odds": {"X": 4}}, token=admin_token), 200)
    for key in ("id", "team_1", "team_2", "date", "status", "result", "created_at"):
        assert patched[key] == match[key]


def test_patch_can_offer_a_selection_that_was_not_offered(api, new_match, admin_token):
    match = new_match(odds={"1": 2.0})
    resp = api.patch(f"/v1/matches/{match['id']}", json={"odds": {"X": 3.3}}, token=admin_token)
    expect_status(resp, 200)
    assert json_decimal(resp)["odds"] == {"1": Decimal("2"), "X": Decimal("3.3")}


def test_patch_null_withdraws_a_selection(api, new_match, admin_token):
    match = new_match(odds={"1": 2.10, "X": 3.25, "2": 3.60})
    resp = api.patch(f"/v1/matches/{match['id']}", json={"odds": {"X": None}}, token=admin_token)
    expect_status(resp, 200)
    assert json_decimal(resp)["odds"] == {"1": Decimal("2.10"), "2": Decimal("3.60")}
    assert json_decimal(api.get(f"/v1/matches/{match['id']}"))["odds"] == {"1": Decimal("2.10"), "2": Decimal("3.60")}


def test_patch_withdrawing_and_setting_in_one_request(api, new_match, admin_token):
    match = new_match(odds={"1": 2.10, "X": 3.25})
    resp = api.patch(f"/v1/matches/{match['id']}", json={"odds": {"1": None, "2": 5.5}}, token=admin_token)
    expect_status(resp, 200)
    assert json_decimal(resp)["odds"] == {"X": Decimal("3.25"), "2": Decimal("5.5")}


def test_patch_withdrawing_every_selection_is_422_and_changes_nothing(api, new_match, admin_token, db):
    match = new_match(odds={"1": 2.10, "X": 3.25, "2": 3.60})
    before = db.match_row(match["id"])
    resp = api.patch(f"/v1/matches/{match['id']}", json={"odds": {"1": None, "X": None, "2": None}},
                     token=admin_token)
    expect_problem(resp, 422, "validation_failed")
    assert db.match_row(match["id"]) == before
    assert expect_json(api.get(f"/v1/matches/{match['id']}"), 200) == match


def test_patch_withdrawing_the_last_remaining_selection_is_422(api, new_match, admin_token):
    match = new_match(odds={"2": 3.60})
    expect_problem(
        api.patch(f"/v1/matches/{match['id']}", json={"odds": {"2": None}}, token=admin_token),
        422, "validation_failed")
    assert expect_json(api.get(f"/v1/matches/{match['id']}"), 200) == match


def test_patch_on_a_past_match_is_422_match_closed(api, new_match, admin_token, db):
    match = new_match(date=past_date(days=1))
    before = db.match_row(match["id"])
    expect_problem(
        api.patch(f"/v1/matches/{match['id']}", json={"odds": {"1": 1.5}}, token=admin_token),
        422, "match_closed")
    assert db.match_row(match["id"]) == before


def test_patch_without_token_is_401(api, new_match, db):
    match = new_match()
    before = db.match_row(match["id"])
    expect_problem(api.patch(f"/v1/matches/{match['id']}", json={"odds": {"1": 1.5}}), 401, "unauthorized")
    assert db.match_row(match["id"]) == before


def test_patch_with_user_token_is_403(api, new_match, new_user, db):
    match = new_match()
    before = db.match_row(match["id"])
    expect_problem(
        api.patch(f"/v1/matches/{match['id']}", json={"odds": {"1": 1.5}}, token=new_user().token),
        403, "forbidden")
    assert db.match_row(match["id"]) == before


def test_patch_missing_match_is_404_match_not_found(api, admin_token):
    expect_problem(
        api.patch(f"/v1/matches/{MISSING_MATCH_ID}", json={"odds": {"1": 1.5}}, token=admin_token),
        404, "match_not_found")


@pytest.mark.parametrize(
    "raw, field",
    [
        ('{"odds":{"1":2.105}}', "odds"),
        ('{"odds":{"1":1.00}}', "odds"),
        ('{"odds":{"1":1000.01}}', "odds"),
        ('{"odds":{"1":"2.5"}}', "odds"),
        ('{"odds":{"draw":2.5}}', "odds"),
        ('{"odds":[2.5]}', "odds"),
        ('{"odds":null}', "odds"),
        ("{}", "body"),
        ('{"odds":{"1":2.5},"date":"2031-01-01T00:00:00Z"}', "date"),
        ('{"odds":{"1":2.5},"team_1":"Other"}', "team_1"),
    ],
    ids=["three-decimals", "too-low", "too-high", "string", "unknown-selection", "array", "null",
         "missing", "date-not-patchable", "team-not-patchable"],
)
def test_invalid_patch_is_422_and_changes_nothing(api, new_match, admin_token, db, raw, field):
    match = new_match()
    before = db.match_row(match["id"])
    expect_validation_failed(api.patch(f"/v1/matches/{match['id']}", body=raw, token=admin_token), field)
    assert db.match_row(match["id"]) == before
