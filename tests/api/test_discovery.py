"""Discovery (API.md Part 2, "Discovery"; the wire decisions in the issue 23
design): a match's competition, searching matches, and finding a user.

- Every match answer has "competition" (1..100 characters, trimmed, no
  control characters, or null), right after "date". POST /v1/matches takes it
  optionally; PATCH /v1/matches/{id} sets it (a string) or clears it (null),
  alone or with other changes, under the same closure rules as odds (settled
  or past kick-off: 422 match_closed). It never bumps odds_version, and is
  audited (match.update) only when the value really changes. A bad value is
  422 validation_failed on field "competition".
- GET /v1/matches?competition=: case-insensitive exact, 1..100 characters.
- GET /v1/matches?q=: case-insensitive substring of team_1, team_2 or the
  competition; q is trimmed, then 2..100 characters without control
  characters (else 400 invalid_parameter naming q); %, _ and \\ are literal.
  It combines with every other filter, paging and sort, and a match created
  or changed is found by the very next search (read-your-writes).
- GET /v1/users (the owner, admin and support operators; traders and bettors
  403, no token 401): paged, newest first, each item as GET /v1/users/{id}
  renders it; q finds users whose email starts with it or whose name
  contains it, case-insensitive, with the same limits as above.

The database is shared with other tests that create users and matches at the
same time, so every search here is pinned to a run tag (a fresh uuid) that
only this test's data carries.
"""

import uuid

import pytest

from account_support import (
    create_operator,
    expect_forbidden,
    expect_unauthorized,
    find_table,
    request_id,
)
from api_support import (
    MATCH_KEYS,
    USER_KEYS,
    describe,
    expect_json,
    expect_page,
    expect_problem,
    expect_status,
    expect_validation_failed,
    future_date,
    past_date,
    unique_email,
    unique_team,
)
from stream_support import SseStream

MAX_TEXT = 100
AUDIT_COLUMNS = {"actor", "action", "target", "request_id", "details"}
_ABSENT = object()


# ==========================================================================
# Helpers
# ==========================================================================

def run_tag():
    """12 hex digits that no other data in the database carries."""
    return uuid.uuid4().hex[:12]


def match_body(team_1=None, team_2=None, date=None, competition=_ABSENT):
    body = {
        "team_1": team_1 or unique_team("Home"),
        "team_2": team_2 or unique_team("Away"),
        "date": date or future_date(),
        "odds": {"1": 2.10, "X": 3.25, "2": 3.60},
    }
    if competition is not _ABSENT:
        body["competition"] = competition
    return body


def create(api, token, **kw):
    return expect_json(api.post("/v1/matches", json=match_body(**kw), token=token), 201)


def read(api, match_id):
    return expect_json(api.get(f"/v1/matches/{match_id}"), 200)


def matches(api, **params):
    """GET /v1/matches with these parameters (from_ for `from`); 200 expected."""
    if "from_" in params:
        params["from"] = params.pop("from_")
    return expect_json(api.get("/v1/matches", params=params), 200)


def ids(page):
    return [item["id"] for item in page["items"]]


def expect_invalid_parameter(resp, name):
    """400 invalid_parameter whose errors[] names the parameter."""
    problem = expect_problem(resp, 400, "invalid_parameter")
    errors = problem.get("errors")
    assert isinstance(errors, list) and errors, f"no errors[]: {describe(resp)}"
    fields = [err.get("field") for err in errors if isinstance(err, dict)]
    assert name in fields, f"expected parameter {name!r} in {fields}: {describe(resp)}"
    return problem


def expect_competition_order(match):
    """"competition" follows "date" in the JSON object."""
    keys = list(match)
    assert keys.index("competition") == keys.index("date") + 1, keys


def users(api, token, **params):
    return expect_json(api.get("/v1/users", params=params, token=token), 200)


@pytest.fixture(scope="module")
def audit_table(db):
    return find_table(db, AUDIT_COLUMNS, "audit")


def audit_rows(db, audit_table, rid):
    return db.query(f"SELECT actor, action, target, details FROM {audit_table} WHERE request_id = %s", (rid,))


def patch_with_rid(api, token, match_id, body):
    """PATCH /v1/matches/{id} with a request id of its own; returns (response, rid)."""
    rid = request_id()
    resp = api.patch(f"/v1/matches/{match_id}", json=body, token=token, headers={"X-Request-Id": rid})
    return resp, rid


# ==========================================================================
# competition on create
# ==========================================================================

def test_a_match_is_created_with_its_competition_right_after_the_date(api, admin_token):
    competition = f"Premier League {run_tag()} 2025/26"
    resp = api.post("/v1/matches", json=match_body(competition=competition), token=admin_token)
    match = expect_json(resp, 201)
    assert set(match) == MATCH_KEYS, describe(resp)
    assert match["competition"] == competition
    expect_competition_order(match)
    back = read(api, match["id"])
    assert back == match
    expect_competition_order(back)
    page = matches(api, team=match["team_1"])
    assert page["items"] == [match]
    expect_competition_order(page["items"][0])


@pytest.mark.parametrize("competition", [_ABSENT, None], ids=["absent", "null"])
def test_a_match_without_a_competition_has_null(api, admin_token, competition):
    match = create(api, admin_token, competition=competition)
    assert "competition" in match and match["competition"] is None, match
    expect_competition_order(match)
    assert read(api, match["id"])["competition"] is None


def test_the_competition_is_trimmed_like_a_team_name(api, admin_token):
    competition = f"Serie A {run_tag()}"
    match = create(api, admin_token, competition=f" \t{competition}\u00a0 ")
    assert match["competition"] == competition
    assert read(api, match["id"])["competition"] == competition


def test_a_competition_of_100_characters_is_accepted_counted_as_code_points(api, admin_token):
    for competition in ((f"Long {run_tag()} " + "x" * MAX_TEXT)[:MAX_TEXT],
                        (run_tag() + "\u00e9" * MAX_TEXT)[:MAX_TEXT]):
        match = create(api, admin_token, competition=competition)
        assert match["competition"] == competition


BAD_COMPETITIONS = [
    ("empty", ""),
    ("blank", "   "),
    ("101", "c" * (MAX_TEXT + 1)),
    ("101-two-byte", "\u00e9" * (MAX_TEXT + 1)),
    ("nul", "Cup\u0000 A"),
    ("newline", "Cup\nA"),
    ("tab-inside", "Cup\tA"),
    ("escape", "Cup\u001bA"),
    ("del", "Cup\u007fA"),
    ("c1", "Cup\u0085A"),
    ("number", 7),
    ("true", True),
    ("array", ["Cup"]),
    ("object", {"name": "Cup"}),
]


@pytest.mark.parametrize("value", [v for _, v in BAD_COMPETITIONS], ids=[n for n, _ in BAD_COMPETITIONS])
def test_a_bad_competition_on_create_is_422_and_creates_nothing(api, admin_token, db, value):
    body = match_body(competition=value)
    expect_validation_failed(api.post("/v1/matches", json=body, token=admin_token), "competition")
    assert db.matches_with_team(body["team_1"]) == 0


# ==========================================================================
# competition by PATCH
# ==========================================================================

def test_patch_may_name_only_the_competition_and_leaves_odds_and_version(api, admin_token):
    match = create(api, admin_token)
    competition = f"La Liga {run_tag()}"
    patched = expect_json(api.patch(f"/v1/matches/{match['id']}", json={"competition": competition},
                                    token=admin_token), 200)
    assert patched["competition"] == competition
    expect_competition_order(patched)
    assert patched["odds_version"] == match["odds_version"] == 1
    assert {k: v for k, v in patched.items() if k != "competition"} == \
        {k: v for k, v in match.items() if k != "competition"}
    assert read(api, match["id"]) == patched


def test_patch_replaces_and_null_clears_the_competition(api, admin_token):
    tag = run_tag()
    match = create(api, admin_token, competition=f"Cup {tag} A")
    url = f"/v1/matches/{match['id']}"
    replaced = expect_json(api.patch(url, json={"competition": f"  Cup {tag} B "}, token=admin_token), 200)
    assert replaced["competition"] == f"Cup {tag} B"
    cleared = expect_json(api.patch(url, json={"competition": None}, token=admin_token), 200)
    assert cleared["competition"] is None
    assert read(api, match["id"])["competition"] is None
    assert cleared["odds_version"] == 1


def test_patch_competition_with_odds_bumps_the_version_for_the_odds_only(api, admin_token):
    match = create(api, admin_token)
    competition = f"Bundesliga {run_tag()}"
    patched = expect_json(api.patch(f"/v1/matches/{match['id']}",
                                    json={"competition": competition, "odds": {"1": 2.50}},
                                    token=admin_token), 200)
    assert patched["competition"] == competition
    assert patched["odds"]["1"] == 2.5
    assert patched["odds_version"] == 2
    again = expect_json(api.patch(f"/v1/matches/{match['id']}", json={"competition": competition + " II"},
                                  token=admin_token), 200)
    assert again["odds_version"] == 2


def test_a_trader_may_set_the_competition_and_support_may_not(api, admin_token, new_operator, db):
    match = create(api, admin_token)
    trader, support = new_operator("trader"), new_operator("support")
    competition = f"Ligue 1 {run_tag()}"
    url = f"/v1/matches/{match['id']}"
    before = db.match_row(match["id"])
    expect_forbidden(api.patch(url, json={"competition": competition}, token=support.token))
    assert db.match_row(match["id"]) == before
    patched = expect_json(api.patch(url, json={"competition": competition}, token=trader.token), 200)
    assert patched["competition"] == competition


def test_a_suspended_match_gets_a_competition_and_stays_suspended(api, admin_token):
    match = create(api, admin_token)
    suspended = expect_json(api.post(f"/v1/matches/{match['id']}/suspend", token=admin_token), 200)
    competition = f"Eredivisie {run_tag()}"
    patched = expect_json(api.patch(f"/v1/matches/{match['id']}", json={"competition": competition},
                                    token=admin_token), 200)
    assert patched["status"] == "suspended"
    assert patched["competition"] == competition
    assert patched["odds_version"] == suspended["odds_version"]


@pytest.mark.parametrize("value", [v for _, v in BAD_COMPETITIONS], ids=[n for n, _ in BAD_COMPETITIONS])
def test_a_bad_competition_on_patch_is_422_and_changes_nothing(api, admin_token, db, value):
    match = create(api, admin_token, competition=f"Cup {run_tag()}")
    before = db.match_row(match["id"])
    resp = api.patch(f"/v1/matches/{match['id']}", json={"competition": value}, token=admin_token)
    expect_validation_failed(resp, "competition")
    assert db.match_row(match["id"]) == before
    assert read(api, match["id"]) == match


def test_a_bad_competition_beside_good_odds_changes_nothing(api, admin_token, db):
    match = create(api, admin_token)
    before = db.match_row(match["id"])
    resp = api.patch(f"/v1/matches/{match['id']}", json={"odds": {"1": 1.80}, "competition": ""},
                     token=admin_token)
    expect_validation_failed(resp, "competition")
    assert db.match_row(match["id"]) == before


@pytest.mark.parametrize("closed", ["settled", "past"])
@pytest.mark.parametrize("value", ["set", "null"])
def test_patch_competition_of_a_closed_match_is_422_match_closed(api, admin_token, db, closed, value):
    tag = run_tag()
    if closed == "past":
        match = create(api, admin_token, date=past_date(days=1), competition=f"Cup {tag}")
    else:
        match = create(api, admin_token, competition=f"Cup {tag}")
        expect_json(api.post(f"/v1/matches/{match['id']}/result", json={"result": "X"}, token=admin_token), 200)
    before = db.match_row(match["id"])
    body = {"competition": f"Other {tag}" if value == "set" else None}
    expect_problem(api.patch(f"/v1/matches/{match['id']}", json=body, token=admin_token), 422, "match_closed")
    assert db.match_row(match["id"]) == before
    assert read(api, match["id"])["competition"] == f"Cup {tag}"


def test_the_competition_is_audited_only_when_it_really_changes(api, admin_token, db, audit_table):
    tag = run_tag()
    match = create(api, admin_token)
    target = f"match:{match['id']}"
    steps = [
        ({"competition": f"Cup {tag}"}, 1),          # set
        ({"competition": f"  Cup {tag} "}, 0),       # the same after trimming
        ({"competition": f"Cup {tag} B"}, 1),        # changed
        ({"competition": None}, 1),                  # cleared
        ({"competition": None}, 0),                  # already null
    ]
    for body, entries in steps:
        resp, rid = patch_with_rid(api, admin_token, match["id"], body)
        expect_json(resp, 200)
        rows = audit_rows(db, audit_table, rid)
        assert len(rows) == entries, f"{body}: {rows}"
        if entries:
            actor, action, row_target, details = rows[0]
            assert (actor, action, row_target) == ("owner", "match.update", target), rows
            expected = body["competition"].strip() if body["competition"] else None
            assert isinstance(details, dict) and "competition" in details, rows
            assert details["competition"] in (body["competition"], expected), rows
    # GET /v1/audit shows the entries too.
    page = expect_json(api.get("/v1/audit", params={"action": "match.update", "actor": "owner", "limit": 100},
                               token=admin_token), 200)
    mine = [item for item in page["items"] if item["target"] == target]
    assert len(mine) == 3, mine
    assert read(api, match["id"])["odds_version"] == 1


def test_a_failed_competition_change_appends_no_audit_entry(api, admin_token, db, audit_table):
    match = create(api, admin_token)
    resp, rid = patch_with_rid(api, admin_token, match["id"], {"competition": "c" * (MAX_TEXT + 1)})
    expect_validation_failed(resp, "competition")
    assert audit_rows(db, audit_table, rid) == []


def test_a_competition_change_reaches_the_live_stream_once(api, admin_token, base_url):
    """docs/api.md, Live stream: one event per committed change, its data the
    match as GET answers it; a write that changes nothing emits nothing."""
    match = create(api, admin_token)
    competition = f"Stream Cup {run_tag()}"
    with SseStream(base_url, match_ids=[match["id"]]) as stream:
        expect_status(stream.response, 200)
        first = stream.next_block(what="the retry preamble")
        assert first is not None and first.field_names() == ["retry"], first
        patched = expect_json(api.patch(f"/v1/matches/{match['id']}", json={"competition": competition},
                                        token=admin_token), 200)
        # The creation's event may come first (it is published just after
        # its answer, maybe after this stream began): wait for the change's.
        block = stream.event_of(patched)
        stream.skip_past(block)
        assert block.json()["competition"] == competition
        expect_competition_order(block.json())
        expect_json(api.patch(f"/v1/matches/{match['id']}", json={"competition": competition},
                              token=admin_token), 200)  # the same again: no event
        suspended = expect_json(api.post(f"/v1/matches/{match['id']}/suspend", token=admin_token), 200)
        _, body = stream.next_match(of={match["id"]})
        assert body == suspended, body


# ==========================================================================
# GET /v1/matches?competition=
# ==========================================================================

def test_the_competition_filter_is_exact_ignoring_case(api, admin_token):
    tag = run_tag()
    competition = f"Premier League {tag} 2025/26"
    first = create(api, admin_token, date=future_date(days=3), competition=competition)
    second = create(api, admin_token, date=future_date(days=4), competition=competition)
    create(api, admin_token, competition=f"Premier League {tag} 2025/26 Women")
    create(api, admin_token, competition=f"{tag} Premier League 2025/26")
    for spelling in (competition, competition.upper(), competition.lower()):
        page = matches(api, competition=spelling)
        expect_page(page, total=2, limit=20, offset=0)
        assert ids(page) == [first["id"], second["id"]]
    for near_miss in (competition[:-1], competition + "x", f"League {tag} 2025/26", f"Premier League {tag}"):
        expect_page(matches(api, competition=near_miss), total=0, limit=20, offset=0)


def test_the_competition_filter_accepts_100_characters(api, admin_token):
    competition = (f"Long {run_tag()} " + "y" * MAX_TEXT)[:MAX_TEXT]
    match = create(api, admin_token, competition=competition)
    assert ids(matches(api, competition=competition)) == [match["id"]]


@pytest.mark.parametrize("query", ["competition=", "competition=" + "c" * (MAX_TEXT + 1),
                                   "competition=" + "%C3%A9" * (MAX_TEXT + 1)],
                         ids=["empty", "101", "101-two-byte"])
def test_a_bad_competition_filter_is_400(api, query):
    expect_invalid_parameter(api.get(f"/v1/matches?{query}"), "competition")


def test_a_repeated_competition_filter_is_400(api):
    expect_problem(api.get("/v1/matches?competition=A&competition=A"), 400, "invalid_parameter")


# ==========================================================================
# GET /v1/matches?q=
# ==========================================================================

def test_q_arsenal_finds_arsenal_fc(api, admin_token):
    """The issue's example, pinned to this run by the competition filter."""
    tag = run_tag()
    competition = f"Search Cup {tag}"
    home = create(api, admin_token, team_1=f"Arsenal FC {tag}", competition=competition, date=future_date(days=2))
    away = create(api, admin_token, team_2=f"Arsenal FC {tag}", competition=competition, date=future_date(days=3))
    create(api, admin_token, competition=competition)  # no Arsenal in it
    for q in ("arsenal", "ARSENAL", "Arsenal", "senal f", "  arsenal  "):
        page = matches(api, q=q, competition=competition)
        assert page["total"] == 2, (q, page)
        assert ids(page) == [home["id"], away["id"]], q


def test_q_is_a_substring_of_either_team_or_the_competition(api, admin_token):
    tag = run_tag()
    in_team_1 = create(api, admin_token, team_1=f"Alpha {tag} Rovers", date=future_date(days=5))
    in_team_2 = create(api, admin_token, team_2=f"Beta{tag}United", date=future_date(days=6))
    in_competition = create(api, admin_token, competition=f"Gamma {tag} Trophy", date=future_date(days=7))
    create(api, admin_token, team_1=f"Alpha {tag[:6]} Rovers {tag[6:]}")  # the tag split: not a substring
    expected = [in_team_1["id"], in_team_2["id"], in_competition["id"]]
    for q in (tag, tag.upper(), tag[1:-1], f" {tag} "):
        page = matches(api, q=q)
        expect_page(page, total=3, limit=20, offset=0)
        assert ids(page) == expected, q
    assert ids(matches(api, q=f"{tag}united")) == [in_team_2["id"]]
    assert ids(matches(api, q=f"GAMMA {tag} t")) == [in_competition["id"]]
    assert ids(matches(api, q=f"alpha {tag} rovers")) == [in_team_1["id"]]


def test_a_search_pages_with_the_exact_total_on_every_page(api, admin_token):
    """The total is counted apart from the page, only when the page cannot
    tell it: a full page, a short page, a page past the end, newest first."""
    tag = run_tag()
    found = [create(api, admin_token, team_1=f"Pager {tag} {n}", date=future_date(days=10 + n))["id"]
             for n in range(5)]
    expect_page(matches(api, q=tag, limit=2), total=5, limit=2, offset=0)
    assert ids(matches(api, q=tag, limit=2, offset=2)) == found[2:4]
    last = matches(api, q=tag, limit=2, offset=4)
    expect_page(last, total=5, limit=2, offset=4)
    assert ids(last) == found[4:]
    expect_page(matches(api, q=tag, limit=5), total=5, limit=5, offset=0)
    expect_page(matches(api, q=tag, limit=2, offset=7), total=5, limit=2, offset=7)
    newest = matches(api, q=tag, limit=3, sort="-date")
    expect_page(newest, total=5, limit=3, offset=0)
    assert ids(newest) == found[::-1][:3]


def test_q_matches_on_text_only_not_on_other_fields(api, admin_token):
    tag = run_tag()
    match = create(api, admin_token, team_1=f"Only {tag}", competition=f"Comp {tag}")
    assert ids(matches(api, q=tag)) == [match["id"]]
    assert matches(api, q=f"only {tag} comp")["total"] == 0  # not across fields
    assert matches(api, q=f"{tag}x")["total"] == 0


def test_q_of_100_characters_and_of_2_is_accepted(api, admin_token):
    tag = run_tag()
    team = (f"Hundred {tag} " + "z" * MAX_TEXT)[:MAX_TEXT]
    match = create(api, admin_token, team_1=team)
    assert ids(matches(api, q=team)) == [match["id"]]
    assert ids(matches(api, q=team.upper(), team=team)) == [match["id"]]
    wide = (run_tag() + "\u00e9" * MAX_TEXT)[:MAX_TEXT]
    found = create(api, admin_token, team_2=wide)
    assert ids(matches(api, q=wide)) == [found["id"]]
    # Two characters is enough (and here pinned to the match by its team).
    assert ids(matches(api, q="zz", team=team)) == [match["id"]]


@pytest.mark.parametrize("value", [
    "", "a", "%20", "%20a%20", "%20%20%20", "+a+", "%C3%A9", "x" * (MAX_TEXT + 1), "%C3%A9" * (MAX_TEXT + 1),
    "a%00b", "ab%00", "a%09b", "a%0Ab", "a%1Bb", "a%7Fb", "a%C2%85b",
], ids=["empty", "one", "space", "one-in-spaces", "spaces", "one-in-plus", "one-two-byte", "101",
        "101-two-byte", "nul", "trailing-nul", "tab", "newline", "escape", "del", "c1"])
def test_a_bad_q_on_matches_is_400_naming_q(api, value):
    expect_invalid_parameter(api.get(f"/v1/matches?q={value}"), "q")


def test_a_repeated_q_is_400(api):
    expect_problem(api.get("/v1/matches?q=ab&q=ab"), 400, "invalid_parameter")


def test_wildcards_in_q_are_literal_characters(api, admin_token):
    tag = run_tag()
    percent = create(api, admin_token, team_1=f"W{tag} 100% Club")
    create(api, admin_token, team_1=f"W{tag} 100X Club")
    underscore = create(api, admin_token, team_1=f"W{tag} a_b")
    create(api, admin_token, team_1=f"W{tag} axb")
    backslash = create(api, admin_token, team_1=f"W{tag} back\\slash")
    create(api, admin_token, team_1=f"W{tag} backslash")
    assert ids(matches(api, q=f"{tag} 100% club")) == [percent["id"]]
    assert ids(matches(api, q=f"{tag} a_b")) == [underscore["id"]]
    assert ids(matches(api, q=f"{tag} back\\slash")) == [backslash["id"]]
    assert ids(matches(api, q=f"{tag} back\\")) == [backslash["id"]]
    assert matches(api, q=f"{tag}%")["total"] == 0
    assert matches(api, q=f"{tag}_")["total"] == 0
    assert matches(api, q=f"{tag}\\")["total"] == 0
    assert matches(api, q=f"W{tag} 100%")["total"] == 1
    # Only wildcard characters: everything found really contains them.
    for q in ("%%", "__", "%_", "\\\\"):
        page = matches(api, q=q, limit=100)
        for item in page["items"]:
            text = " ".join(str(item[k]) for k in ("team_1", "team_2", "competition") if item[k])
            assert q in text, (q, item)


@pytest.fixture
def league(api, admin_token):
    """Five matches of one tag: two of a team, one settled, one suspended,
    one in another competition, on five days."""
    tag = run_tag()
    team = f"Lions {tag}"
    comp = f"League {tag}"
    days = ["2032-04-01T18:00:00Z", "2032-04-02T18:00:00Z", "2032-04-03T18:00:00Z",
            "2032-04-04T18:00:00Z", "2032-04-05T18:00:00Z"]
    made = [
        create(api, admin_token, team_1=team, date=days[0], competition=comp),
        create(api, admin_token, team_2=team, date=days[1], competition=comp),
        create(api, admin_token, team_1=f"Tigers {tag}", date=days[2], competition=comp),
        create(api, admin_token, team_1=f"Bears {tag}", date=days[3], competition=comp),
        create(api, admin_token, team_1=f"Wolves {tag}", date=days[4], competition=f"Cup {tag}"),
    ]
    expect_json(api.post(f"/v1/matches/{made[2]['id']}/result", json={"result": "1"}, token=admin_token), 200)
    expect_json(api.post(f"/v1/matches/{made[3]['id']}/suspend", token=admin_token), 200)
    return {"tag": tag, "team": team, "comp": comp, "days": days, "ids": [m["id"] for m in made]}


def test_q_combines_with_status(api, league):
    m = league["ids"]
    q = league["tag"]
    assert ids(matches(api, q=q)) == m
    assert ids(matches(api, q=q, status="open")) == [m[0], m[1], m[4]]
    assert ids(matches(api, q=q, status="settled")) == [m[2]]
    assert ids(matches(api, q=q, status="suspended")) == [m[3]]


def test_q_combines_with_team_and_competition(api, league):
    m = league["ids"]
    q = league["tag"]
    assert ids(matches(api, q=q, team=league["team"].upper())) == [m[0], m[1]]
    assert ids(matches(api, q=q, competition=league["comp"].lower())) == [m[0], m[1], m[2], m[3]]
    assert ids(matches(api, q=f"Cup {q}", competition=league["comp"])) == []
    assert ids(matches(api, q="tigers", competition=league["comp"])) == [m[2]]
    assert ids(matches(api, q="lions", team=league["team"], competition=league["comp"], status="open")) \
        == [m[0], m[1]]


def test_q_combines_with_from_and_to(api, league):
    m, days = league["ids"], league["days"]
    q = league["tag"]
    assert ids(matches(api, q=q, from_=days[1])) == m[1:]
    assert ids(matches(api, q=q, to=days[1])) == m[:2]
    assert ids(matches(api, q=q, from_=days[1], to=days[3])) == m[1:4]
    assert ids(matches(api, q=q, from_=days[3], to=days[1])) == []


def test_q_combines_with_sort_and_paging(api, league):
    m = league["ids"]
    q = league["tag"]
    assert ids(matches(api, q=q, sort="-date")) == m[::-1]
    page = matches(api, q=q, limit=2)
    expect_page(page, total=5, limit=2, offset=0)
    assert ids(page) == m[:2]
    page = matches(api, q=q, limit=2, offset=2, sort="date")
    expect_page(page, total=5, limit=2, offset=2)
    assert ids(page) == m[2:4]
    page = matches(api, q=q, limit=2, offset=4)
    expect_page(page, total=5, limit=2, offset=4)
    assert ids(page) == m[4:]
    page = matches(api, q=q, offset=5)
    expect_page(page, total=5, limit=20, offset=5)
    assert page["items"] == []
    page = matches(api, q=q, sort="-date", limit=3, offset=1, status="open")
    expect_page(page, total=3, limit=3, offset=1)
    assert ids(page) == [m[1], m[0]]


def test_a_bad_parameter_beside_a_good_q_is_400(api):
    for query in ("q=abc&limit=0", "q=abc&status=pending", "q=abc&sort=team", "q=abc&bogus=1",
                  "q=abc&from=yesterday", "q=abc&competition="):
        expect_problem(api.get(f"/v1/matches?{query}"), 400, "invalid_parameter")


def test_a_new_match_is_found_by_the_next_search(api, admin_token):
    tag = run_tag()
    for params in ({"q": tag}, {"q": tag, "status": "open"}, {"q": tag.upper(), "limit": 5}):
        expect_page(matches(api, **params), total=0, limit=params.get("limit", 20), offset=0)  # may be cached
    match = create(api, admin_token, team_2=f"Fresh {tag}")
    for params in ({"q": tag}, {"q": tag, "status": "open"}, {"q": tag.upper(), "limit": 5}):
        assert ids(matches(api, **params)) == [match["id"]], params


def test_a_patched_competition_is_found_by_the_next_search(api, admin_token):
    tag = run_tag()
    old, new = f"Old Cup {tag}", f"New Cup {tag}"
    match = create(api, admin_token, competition=old)
    # Warm whatever caches there are, for every search that is about to change.
    assert ids(matches(api, q=f"old cup {tag}")) == [match["id"]]
    assert ids(matches(api, competition=old)) == [match["id"]]
    assert matches(api, q=f"new cup {tag}")["total"] == 0
    assert matches(api, competition=new)["total"] == 0
    assert ids(matches(api, q=tag)) == [match["id"]]

    expect_json(api.patch(f"/v1/matches/{match['id']}", json={"competition": new}, token=admin_token), 200)
    assert matches(api, q=f"old cup {tag}")["total"] == 0
    assert matches(api, competition=old)["total"] == 0
    assert ids(matches(api, q=f"new cup {tag}")) == [match["id"]]
    assert ids(matches(api, competition=new)) == [match["id"]]
    assert matches(api, q=tag)["items"][0]["competition"] == new

    expect_json(api.patch(f"/v1/matches/{match['id']}", json={"competition": None}, token=admin_token), 200)
    assert matches(api, q=tag)["total"] == 0
    assert matches(api, competition=new)["total"] == 0


def test_searches_and_filters_never_share_a_cached_answer(api, admin_token):
    """The same text as q, as competition and as team, and a q that spells
    another filter, are different questions (each answer may be cached)."""
    tag = run_tag()
    text = f"Same Text {tag}"
    in_team = create(api, admin_token, team_1=text)
    in_comp = create(api, admin_token, competition=text)
    for _ in range(2):  # the second round reads whatever the first one cached
        assert ids(matches(api, q=text)) == [in_team["id"], in_comp["id"]]
        assert ids(matches(api, competition=text)) == [in_comp["id"]]
        assert ids(matches(api, team=text)) == [in_team["id"]]
        assert matches(api, q=f"{text}&status=settled")["total"] == 0
        assert matches(api, q=text, status="settled")["total"] == 0
        assert matches(api, q=f"{text}&competition={text}")["total"] == 0
        assert ids(matches(api, q=text, competition=text)) == [in_comp["id"]]


def test_a_search_shows_new_odds_and_status_at_once(api, admin_token):
    tag = run_tag()
    match = create(api, admin_token, team_1=f"Odds {tag}")
    assert matches(api, q=tag)["items"][0]["odds"]["1"] == 2.1
    expect_json(api.patch(f"/v1/matches/{match['id']}", json={"odds": {"1": 1.95}}, token=admin_token), 200)
    assert matches(api, q=tag)["items"][0]["odds"]["1"] == 1.95
    assert matches(api, q=tag, status="settled")["total"] == 0
    expect_json(api.post(f"/v1/matches/{match['id']}/result", json={"result": "2"}, token=admin_token), 200)
    assert ids(matches(api, q=tag, status="settled")) == [match["id"]]
    assert matches(api, q=tag, status="open")["total"] == 0


# ==========================================================================
# GET /v1/users
# ==========================================================================

def expect_user_item(api, admin_token, item):
    """An item is the user as GET /v1/users/{id} renders it (no token)."""
    assert set(item) == USER_KEYS, item
    assert expect_json(api.get(f"/v1/users/{item['id']}", token=admin_token), 200) == item


@pytest.fixture
def people(new_user):
    """Four users of one tag, created in this order (so with rising ids):
    two whose email starts with disc-<tag>, one whose name contains the tag,
    one whose email has the tag only in the middle."""
    tag = run_tag()
    made = {
        "ann": new_user(email=f"disc-{tag}-ann@example.com", name=f"Ann {tag} One"),
        "bob": new_user(email=f"disc-{tag}-bob@example.com", name="Bob Plain"),
        "carol": new_user(email=unique_email("carol"), name=f"Carol X{tag.upper()}Y"),
        "dave": new_user(email=f"mid-disc-{tag}@example.com", name="Dave Plain"),
    }
    made["tag"] = tag
    return made


def user_ids(page):
    return [item["id"] for item in page["items"]]


def test_users_q_finds_email_prefixes_and_name_substrings_newest_first(api, admin_token, people):
    tag, ann, bob, carol = people["tag"], people["ann"], people["bob"], people["carol"]
    page = users(api, admin_token, q=f"disc-{tag}")
    expect_page(page, total=2, limit=20, offset=0)
    assert user_ids(page) == [bob.id, ann.id]  # newest first; dave's email has it only inside
    for item in page["items"]:
        expect_user_item(api, admin_token, item)
    page = users(api, admin_token, q=tag)
    expect_page(page, total=2, limit=20, offset=0)
    assert user_ids(page) == [carol.id, ann.id]  # names; no email starts with the tag
    assert users(api, admin_token, q=f"{tag}-bob@example")["total"] == 0  # inside an email: no
    assert users(api, admin_token, q="Bob Plain " + tag)["total"] == 0


def test_users_q_ignores_case_and_is_trimmed(api, admin_token, people):
    tag, ann, bob, carol = people["tag"], people["ann"], people["bob"], people["carol"]
    assert user_ids(users(api, admin_token, q=f"DISC-{tag.upper()}-A")) == [ann.id]
    assert user_ids(users(api, admin_token, q=f"  Disc-{tag}-B  ")) == [bob.id]
    assert user_ids(users(api, admin_token, q=f"ann {tag.upper()} one")) == [ann.id]
    assert user_ids(users(api, admin_token, q=f"x{tag}y")) == [carol.id]
    assert user_ids(users(api, admin_token, q=f"disc-{tag}-ann@example.com")) == [ann.id]


def test_users_q_pages_with_a_total(api, admin_token, people):
    tag, ann, bob = people["tag"], people["ann"], people["bob"]
    q = f"disc-{tag}"
    page = users(api, admin_token, q=q, limit=1)
    expect_page(page, total=2, limit=1, offset=0)
    assert user_ids(page) == [bob.id]
    page = users(api, admin_token, q=q, limit=1, offset=1)
    expect_page(page, total=2, limit=1, offset=1)
    assert user_ids(page) == [ann.id]
    page = users(api, admin_token, q=q, offset=2)
    expect_page(page, total=2, limit=20, offset=2)
    assert page["items"] == []
    page = users(api, admin_token, q=q, limit=100)
    expect_page(page, total=2, limit=100, offset=0)


def test_users_without_q_lists_everyone_newest_first(api, admin_token, new_user):
    mine = new_user(name=f"Newest {run_tag()}")
    page = users(api, admin_token, limit=100)
    assert page["limit"] == 100 and page["offset"] == 0
    assert page["total"] >= len(page["items"]) >= 1
    listed = user_ids(page)
    assert listed == sorted(listed, reverse=True), listed
    assert listed[0] >= mine.id  # ours, or one made after it
    if mine.id in listed:
        expect_user_item(api, admin_token, page["items"][listed.index(mine.id)])
    default = users(api, admin_token)
    assert default["limit"] == 20 and default["offset"] == 0 and len(default["items"]) <= 20
    second = users(api, admin_token, limit=2, offset=1)
    assert len(second["items"]) == 2
    assert user_ids(second) == sorted(user_ids(second), reverse=True)


def test_users_q_treats_wildcards_as_literal_characters(api, admin_token, new_user):
    tag = run_tag()
    percent = new_user(name=f"Pct {tag} 100% sure")
    new_user(name=f"Pct {tag} 100x sure")
    underscore = new_user(email=f"u_{tag}@example.com", name="Under Score")
    new_user(email=f"ux{tag}@example.com", name="Under Score")
    backslash = new_user(name=f"Back {tag} a\\b")
    new_user(name=f"Back {tag} ab")
    assert user_ids(users(api, admin_token, q=f"{tag} 100%")) == [percent.id]
    assert user_ids(users(api, admin_token, q=f"u_{tag}")) == [underscore.id]
    assert user_ids(users(api, admin_token, q=f"{tag} a\\b")) == [backslash.id]
    assert users(api, admin_token, q=f"{tag}%")["total"] == 0
    assert users(api, admin_token, q=f"{tag}_")["total"] == 0
    for q in ("%%", "__", "%_"):
        for item in users(api, admin_token, q=q, limit=100)["items"]:
            assert item["email"].startswith(q) or q in item["name"].lower(), (q, item)


def test_a_new_user_is_found_at_once(api, admin_token, new_user):
    tag = run_tag()
    assert users(api, admin_token, q=f"fresh-{tag}")["total"] == 0
    assert users(api, admin_token, q=f"Fresh {tag}")["total"] == 0
    user = new_user(email=f"fresh-{tag}@example.com", name=f"Fresh {tag}")
    assert user_ids(users(api, admin_token, q=f"fresh-{tag}")) == [user.id]
    assert user_ids(users(api, admin_token, q=f"Fresh {tag}")) == [user.id]


def test_operators_are_not_users(api, admin_token):
    tag = run_tag()
    create_operator(api, admin_token, "support", email=f"disc-op-{tag}@example.com")
    assert users(api, admin_token, q=f"disc-op-{tag}")["total"] == 0


@pytest.mark.parametrize("role", ["admin", "support"])
def test_admin_and_support_operators_may_list_users(api, admin_token, new_operator, people, role):
    op = new_operator(role)
    tag, ann, bob = people["tag"], people["ann"], people["bob"]
    page = users(api, op.token, q=f"disc-{tag}")
    expect_page(page, total=2, limit=20, offset=0)
    assert user_ids(page) == [bob.id, ann.id]
    assert page == users(api, admin_token, q=f"disc-{tag}")


def test_bettors_and_traders_may_not_list_users(api, new_operator, new_user, people):
    q = f"disc-{people['tag']}"
    bettor = new_user()
    trader = new_operator("trader")
    for token in (bettor.token, people["ann"].token, trader.token):
        expect_forbidden(api.get("/v1/users", token=token))
        expect_forbidden(api.get("/v1/users", params={"q": q}, token=token))
        # Auth comes before the query string.
        expect_forbidden(api.get("/v1/users?q=a", token=token))


def test_listing_users_without_a_token_is_401(api):
    expect_unauthorized(api.get("/v1/users"))
    expect_unauthorized(api.get("/v1/users?q=ab"))
    expect_unauthorized(api.get("/v1/users?q=a"))
    expect_unauthorized(api.get("/v1/users", token="A" * 43))


@pytest.mark.parametrize("value", [
    "", "a", "%20", "%20a%20", "+a+", "%C3%A9", "x" * (MAX_TEXT + 1), "%C3%A9" * (MAX_TEXT + 1),
    "a%00b", "a%09b", "a%0Ab", "a%1Bb", "a%7Fb", "a%C2%85b",
], ids=["empty", "one", "space", "one-in-spaces", "one-in-plus", "one-two-byte", "101", "101-two-byte",
        "nul", "tab", "newline", "escape", "del", "c1"])
def test_a_bad_q_on_users_is_400_naming_q(api, admin_token, value):
    expect_invalid_parameter(api.get(f"/v1/users?q={value}", token=admin_token), "q")


def test_users_q_of_2_and_of_100_characters_is_accepted(api, admin_token, new_user):
    name = (f"Wide {run_tag()} " + "\u00e9" * MAX_TEXT)[:MAX_TEXT]
    user = new_user(name=name)
    assert user_ids(users(api, admin_token, q=name)) == [user.id]
    page = users(api, admin_token, q="zq", limit=1)
    assert page["limit"] == 1 and page["total"] >= 0


@pytest.mark.parametrize("query", [
    "bogus=1", "Q=ab", "q=ab&q=ab", "name=ann", "email=ann", "limit=0", "limit=101", "limit=x", "offset=-1",
    "offset=x", "sort=-id", "limit=5&limit=5",
])
def test_unknown_repeated_or_malformed_user_list_parameters_are_400(api, admin_token, query):
    expect_problem(api.get(f"/v1/users?{query}", token=admin_token), 400, "invalid_parameter")
