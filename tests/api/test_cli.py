"""The betsdb command line: check, import, --help, configuration errors.

Runs the binary of the server under test (/proc/$BETSDB_TEST_SERVER_PID/exe)
against the same database (BETSDB_TEST_DATABASE_URL) and Redis
(BETSDB_TEST_REDIS_URL or, in cluster mode, BETSDB_TEST_REDIS_CLUSTER, so
that an import invalidates the server's caches).
"""

import datetime as dt
import json
import os
import pty
import select
import subprocess
import urllib.parse
import uuid
from decimal import Decimal

import psycopg2
import pytest

import redis_keys
from api_support import expect_json, expect_status, json_decimal
from bet_support import required_env

CLI_TIMEOUT_S = 120


def betsdb_exe():
    pid = required_env("BETSDB_TEST_SERVER_PID")
    exe = f"/proc/{pid}/exe"
    if not os.path.exists(exe):
        pytest.fail(f"BETSDB_TEST_SERVER_PID={pid} is not a running process", pytrace=False)
    return exe


def cli_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BETSDB_")}
    env["BETSDB_DATABASE_URL"] = required_env("BETSDB_TEST_DATABASE_URL")
    env.update(redis_keys.suite_redis_env())
    env.update(extra)
    return env


def betsdb(*args, env=None):
    return subprocess.run(["betsdb", *args], executable=betsdb_exe(), env=env or cli_env(),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=CLI_TIMEOUT_S)


def show(result):
    return f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"


# ------------------------------------------------------------------- help

@pytest.mark.parametrize("command", ["serve", "migrate", "check", "import", "version"])
def test_every_command_has_help(command):
    result = betsdb(command, "--help")
    assert result.returncode == 0, show(result)
    assert f"Usage: betsdb {command}" in result.stdout, show(result)


def test_general_help_lists_the_commands():
    result = betsdb("--help")
    assert result.returncode == 0, show(result)
    for command in ("serve", "migrate", "check", "import", "version"):
        assert f"  {command} " in result.stdout, show(result)


def test_version():
    result = betsdb("version")
    assert result.returncode == 0 and result.stdout.startswith("betsdb "), show(result)


def test_an_unknown_log_level_is_refused_at_start_up():
    result = betsdb("migrate", env=cli_env(BETSDB_LOG_LEVEL="verbose"))
    assert result.returncode == 2, show(result)
    assert "log_level" in result.stderr and "verbose" in result.stderr, show(result)


def test_an_unknown_command_is_refused():
    result = betsdb("frobnicate")
    assert result.returncode == 2, show(result)


# ------------------------------------------------------------------ check

def test_check_passes_on_a_consistent_ledger(new_user):
    new_user(balance=5_000)
    result = betsdb("check")
    assert result.returncode == 0, show(result)
    assert "ledger consistent" in result.stdout, show(result)


def test_check_names_a_user_whose_balance_differs_from_the_ledger(db, new_user):
    user = new_user(balance=5_000)
    db.query(f"UPDATE {db.users_table} SET balance = balance + 1 WHERE id = %s RETURNING id", (user.id,))
    try:
        result = betsdb("check")
        assert result.returncode == 1, show(result)
        assert f"user {user.id} <{user.email}>: balance 5001, ledger sum 5000" in result.stdout, show(result)
    finally:
        db.query(f"UPDATE {db.users_table} SET balance = balance - 1 WHERE id = %s RETURNING id", (user.id,))
    result = betsdb("check")
    assert result.returncode == 0, show(result)


def test_check_verifies_the_exposure_and_names_a_match_that_differs(api, db, new_user, new_match):
    match = new_match()
    bettor = new_user(balance=5_000)
    expect_status(api.post("/v1/bets", json={"user_id": bettor.id, "match_id": match["id"],
                                            "selection": "1", "stake": 1_000}, token=bettor.token), 201)
    result = betsdb("check")
    assert result.returncode == 0, show(result)
    assert "exposure consistent" in result.stdout, show(result)
    table = db.users_table.replace("users", "match_exposure")
    db.query(f"UPDATE {table} SET stake_1 = stake_1 + 1 WHERE match_id = %s RETURNING match_id", (match["id"],))
    try:
        result = betsdb("check")
        assert result.returncode == 1, show(result)
        assert f"match {match['id']}: exposure differs" in result.stdout, show(result)
        assert "exposure INCONSISTENT" in result.stdout, show(result)
    finally:
        db.query(f"UPDATE {table} SET stake_1 = stake_1 - 1 WHERE match_id = %s RETURNING match_id", (match["id"],))
    result = betsdb("check")
    assert result.returncode == 0, show(result)


def test_check_verifies_each_bets_ledger_rows_including_cash_outs(api, db, new_user, new_match):
    legs = [new_match(), new_match()]
    bettor = new_user(balance=5_000)
    acca = expect_json(api.post("/v1/bets", json={
        "user_id": bettor.id, "stake": 1_000,
        "legs": [{"match_id": m["id"], "selection": "1"} for m in legs]}, token=bettor.token), 201)
    quote = expect_json(api.post(f"/v1/bets/{acca['id']}/cash-out/quote", token=bettor.token), 201)
    expect_status(api.post(f"/v1/bets/{acca['id']}/cash-out", json={"quote_id": quote["quote_id"]},
                           token=bettor.token), 200)
    result = betsdb("check")
    assert result.returncode == 0, show(result)
    assert "bets consistent" in result.stdout, show(result)
    # A cash-out row of the wrong amount, balanced so that only this check sees it.
    ledger = db.users_table.replace("users", "ledger")
    db.query(f"UPDATE {ledger} SET amount = amount - 1, balance_after = balance_after - 1 "
             "WHERE bet_id = %s AND kind = 'cash_out' RETURNING id", (acca["id"],))
    db.query(f"UPDATE {db.users_table} SET balance = balance - 1 WHERE id = %s RETURNING id", (bettor.id,))
    try:
        result = betsdb("check")
        assert result.returncode == 1, show(result)
        assert f"bet {acca['id']}: its ledger rows do not match" in result.stdout, show(result)
        assert "bets INCONSISTENT" in result.stdout, show(result)
        assert "ledger consistent" in result.stdout, show(result)
    finally:
        db.query(f"UPDATE {ledger} SET amount = amount + 1, balance_after = balance_after + 1 "
                 "WHERE bet_id = %s AND kind = 'cash_out' RETURNING id", (acca["id"],))
        db.query(f"UPDATE {db.users_table} SET balance = balance + 1 WHERE id = %s RETURNING id",
                 (bettor.id,))
    result = betsdb("check")
    assert result.returncode == 0, show(result)


def test_check_verifies_the_accumulators_duplicate_guard(api, db, new_user, new_match):
    legs = [new_match(), new_match()]
    bettor = new_user(balance=5_000)
    acca = expect_json(api.post("/v1/bets", json={
        "user_id": bettor.id, "stake": 1_000,
        "legs": [{"match_id": m["id"], "selection": "1"} for m in legs]}, token=bettor.token), 201)
    result = betsdb("check")
    assert result.returncode == 0, show(result)
    assert "accumulator guards consistent" in result.stdout, show(result)
    guards = db.users_table.replace("users", "pending_accumulators")
    (row,) = db.query(f"DELETE FROM {guards} WHERE bet_id = %s RETURNING bet_id, user_id, legs_key",
                      (acca["id"],))
    try:
        result = betsdb("check")
        assert result.returncode == 1, show(result)
        assert f"bet {acca['id']}: its duplicate guard" in result.stdout, show(result)
        assert "accumulator guards INCONSISTENT" in result.stdout, show(result)
        assert "bets consistent" in result.stdout and "ledger consistent" in result.stdout, show(result)
    finally:
        db.query(f"INSERT INTO {guards} (bet_id, user_id, legs_key) VALUES (%s, %s, %s) RETURNING bet_id", row)
    result = betsdb("check")
    assert result.returncode == 0, show(result)


def test_check_reports_an_unreachable_database():
    result = betsdb("check", env=cli_env(BETSDB_DATABASE_URL="postgresql://postgres@127.0.0.1:1/none"))
    assert result.returncode == 2, show(result)


# ----------------------------------------------------------------- import

_UNIQUE_NAME = object()


def fixture_file(tmp_path, matches, name=_UNIQUE_NAME):
    """An openfootball file. Its "name" is unique unless given (None: no name),
    since the import remembers a file's --shift-to-future by its name."""
    if name is _UNIQUE_NAME:
        name = f"Test League {uuid.uuid4().hex[:12]}"
    body = {"matches": matches}
    if name is not None:
        body["name"] = name
    path = tmp_path / f"fixtures-{uuid.uuid4().hex}.json"
    path.write_text(json.dumps(body))
    return str(path)


def teams(n):
    tag = uuid.uuid4().hex[:12]
    return [f"CLI Team {tag} {i}" for i in range(n)]


def matches_of(api, team):
    return expect_json(api.get("/v1/matches", params={"team": team, "limit": 100}), 200)["items"]


def check_odds(match):
    for sel in ("1", "X", "2"):
        odds = match["odds"][sel]
        assert Decimal("1.01") <= odds <= Decimal("1000"), match
        assert odds == odds.quantize(Decimal("0.01")), match


def test_import_creates_the_matches_and_skips_them_when_run_again(api, tmp_path):
    a, b, c = teams(3)
    path = fixture_file(tmp_path, [
        {"round": "1", "date": "2031-05-04", "time": "19:45", "team1": a, "team2": b},
        {"round": "1", "date": "2031-05-05", "time": "18:00 UTC+2", "team1": b, "team2": c},
        {"round": "1", "date": "2031-05-06", "team1": c, "team2": a},
    ])
    # A cached empty list must not survive the import (the server's caches are invalidated).
    assert matches_of(api, a) == []

    first = betsdb("import", path)
    assert first.returncode == 0, show(first)
    assert "3 created" in first.stdout and "0 duplicates" in first.stdout, show(first)
    assert "\r" not in first.stderr, "a progress bar was drawn although stderr is not a terminal"

    resp = api.get("/v1/matches", params={"team": a, "limit": 100})
    found = {(m["team_1"], m["team_2"]): m for m in json_decimal(resp)["items"]}
    assert set(found) == {(a, b), (c, a)}, found
    assert found[(a, b)]["date"] == "2031-05-04T19:45:00Z"
    assert found[(c, a)]["date"] == "2031-05-06T12:00:00Z"  # no time: noon UTC
    assert [m["date"] for m in matches_of(api, c) if m["team_1"] == b] == ["2031-05-05T16:00:00Z"]
    for m in found.values():
        assert m["status"] == "open" and m["result"] is None
        check_odds(m)

    second = betsdb("import", path)
    assert second.returncode == 0, show(second)
    assert "0 created" in second.stdout and "3 duplicates skipped" in second.stdout, show(second)
    assert len(matches_of(api, a)) == 2


def test_import_with_apply_results_settles_through_the_ledger(api, admin_token, new_user, db, tmp_path):
    """Settling goes through the ledger. The matches are in the future (a bet
    must be placed on one first), so settling them needs the force option;
    test_import_apply_results_never_settles_before_kick_off shows that it is
    needed, and that past matches need no force."""
    home, away, other = teams(3)
    matches = [
        {"round": "1", "date": "2031-06-01", "time": "20:00", "team1": home, "team2": away,
         "score": {"ht": [0, 0], "ft": [2, 1]}},
        {"round": "1", "date": "2031-06-02", "time": "20:00", "team1": away, "team2": other,
         "score": {"ft": [1, 1]}},
        {"round": "2", "date": "2031-06-08", "time": "20:00", "team1": other, "team2": home, "score": {}},
    ]
    path = fixture_file(tmp_path, matches)
    first = betsdb("import", path)
    assert first.returncode == 0, show(first)

    match = next(m for m in matches_of(api, home) if m["team_1"] == home)
    user = new_user(balance=10_000)
    bet = expect_json(api.post("/v1/bets", json={"user_id": user.id, "match_id": match["id"],
                                                 "selection": "1", "stake": 1_000},
                               token=user.token), 201)

    settled = betsdb("import", path, "--apply-results", "--force-settle-before-kickoff")
    assert settled.returncode == 0, show(settled)
    assert "3 duplicates skipped" in settled.stdout and "2 settled" in settled.stdout, show(settled)
    assert FORCE_WARNING in settled.stderr, show(settled)

    by_pair = {(m["team_1"], m["team_2"]): m for m in matches_of(api, home) + matches_of(api, other)}
    assert by_pair[(home, away)]["status"] == "settled" and by_pair[(home, away)]["result"] == "1"
    assert by_pair[(away, other)]["result"] == "X"
    assert by_pair[(other, home)]["status"] == "open"  # no score: left open

    won = expect_json(api.get(f"/v1/bets/{bet['id']}", token=user.token), 200)
    assert won["status"] == "won"
    assert db.balance(user.id) == 10_000 - 1_000 + bet["potential_payout"]
    assert db.balance(user.id) == db.ledger_sum(user.id)

    # Already settled: nothing left to settle, so no force is needed.
    again = betsdb("import", path, "--apply-results")
    assert again.returncode == 0, show(again)
    assert "0 settled, 2 already settled" in again.stdout, show(again)
    assert betsdb("check").returncode == 0


FORCE_WARNING = "betsdb import: warning: --force-settle-before-kickoff"
NOT_SETTLED = "not settled: kick-off still in the future (--force-settle-before-kickoff settles them)"


def by_pair(api, *team_names):
    found = {}
    for team in team_names:
        for m in matches_of(api, team):
            found[(m["team_1"], m["team_2"])] = m
    return found


def test_import_apply_results_never_settles_before_kick_off(api, new_user, db, tmp_path):
    past_home, past_away, home, away, spare = teams(5)
    path = fixture_file(tmp_path, [
        {"round": "1", "date": "2020-05-01", "time": "15:00", "team1": past_home, "team2": past_away,
         "score": {"ft": [2, 0]}},
        {"round": "1", "date": "2031-06-01", "time": "20:00", "team1": home, "team2": away,
         "score": {"ft": [0, 1]}},
        {"round": "1", "date": "2031-06-02", "time": "20:00", "team1": spare, "team2": home},
    ])
    created = betsdb("import", path)
    assert created.returncode == 0, show(created)
    assert "3 created" in created.stdout, show(created)
    future = by_pair(api, home)[(home, away)]
    user = new_user(balance=10_000)
    bet = expect_json(api.post("/v1/bets", json={"user_id": user.id, "match_id": future["id"],
                                                 "selection": "1", "stake": 1_000}, token=user.token), 201)

    # Without the force option: the past match is settled, the future one is not.
    refused = betsdb("import", path, "--apply-results")
    assert refused.returncode == 1, show(refused)
    assert "0 created" in refused.stdout and "3 duplicates skipped" in refused.stdout, show(refused)
    assert "1 settled" in refused.stdout, show(refused)
    assert f"1 {NOT_SETTLED}" in refused.stdout, show(refused)
    assert home in refused.stderr and away in refused.stderr, show(refused)
    assert past_home not in refused.stderr, show(refused)
    assert FORCE_WARNING not in refused.stderr, show(refused)
    found = by_pair(api, home, past_home)
    assert (found[(past_home, past_away)]["status"], found[(past_home, past_away)]["result"]) == ("settled", "1")
    assert (found[(home, away)]["status"], found[(home, away)]["result"]) == ("open", None)
    assert (found[(spare, home)]["status"], found[(spare, home)]["result"]) == ("open", None)
    assert expect_json(api.get(f"/v1/bets/{bet['id']}", token=user.token), 200)["status"] == "pending"
    assert db.balance(user.id) == 9_000

    # With it: settled, loudly.
    forced = betsdb("import", path, "--apply-results", "--force-settle-before-kickoff")
    assert forced.returncode == 0, show(forced)
    assert "1 settled, 1 already settled" in forced.stdout, show(forced)
    assert FORCE_WARNING in forced.stderr, show(forced)
    found = by_pair(api, home)
    assert (found[(home, away)]["status"], found[(home, away)]["result"]) == ("settled", "2")
    assert found[(spare, home)]["status"] == "open"  # no score: nothing to settle
    assert expect_json(api.get(f"/v1/bets/{bet['id']}", token=user.token), 200)["status"] == "lost"
    assert db.balance(user.id) == db.ledger_sum(user.id) == 9_000
    assert betsdb("check").returncode == 0


def test_import_apply_results_settles_a_past_match_in_the_same_run_without_force(api, tmp_path):
    a, b = teams(2)
    path = fixture_file(tmp_path, [
        {"round": "3", "date": "2021-09-18", "time": "12:30", "team1": a, "team2": b, "score": {"ft": [1, 1]}},
    ])
    result = betsdb("import", path, "--apply-results")
    assert result.returncode == 0, show(result)
    assert "1 created" in result.stdout and "1 settled" in result.stdout, show(result)
    assert FORCE_WARNING not in result.stderr, show(result)
    (match,) = matches_of(api, a)
    assert (match["date"], match["status"], match["result"]) == ("2021-09-18T12:30:00Z", "settled", "X")


def test_import_help_names_the_force_option():
    result = betsdb("import", "--help")
    assert result.returncode == 0, show(result)
    assert "--force-settle-before-kickoff" in result.stdout, show(result)


def test_import_sets_the_competition_from_the_files_name(api, tmp_path):
    a, b = teams(2)
    competition = f"CLI Cup {uuid.uuid4().hex[:12]} 2031/32"
    path = fixture_file(tmp_path, [{"round": "1", "date": "2031-10-01", "time": "19:00", "team1": a, "team2": b}],
                        name=f"  {competition}\t")
    result = betsdb("import", path)
    assert result.returncode == 0, show(result)
    (match,) = matches_of(api, a)
    assert match["competition"] == competition
    page = expect_json(api.get("/v1/matches", params={"competition": competition.upper()}), 200)
    assert [m["id"] for m in page["items"]] == [match["id"]]


def test_import_cuts_a_long_name_to_100_characters(api, tmp_path):
    a, b = teams(2)
    name = f"CLI Long {uuid.uuid4().hex[:12]} " + "n" * 200
    path = fixture_file(tmp_path, [{"date": "2031-10-02", "team1": a, "team2": b}], name=name)
    result = betsdb("import", path)
    assert result.returncode == 0, show(result)
    (match,) = matches_of(api, a)
    assert match["competition"] == name[:100]


def test_import_of_a_file_without_a_name_gives_no_competition(api, tmp_path):
    a, b = teams(2)
    path = fixture_file(tmp_path, [{"date": "2031-10-03", "team1": a, "team2": b}], name=None)
    result = betsdb("import", path)
    assert result.returncode == 0, show(result)
    (match,) = matches_of(api, a)
    assert match["competition"] is None


def test_import_shift_to_future_moves_the_earliest_match_to_tomorrow(api, tmp_path):
    """On the file's first import (by its name)."""
    a, b = teams(2)
    path = fixture_file(tmp_path, [
        {"date": "2020-03-10", "time": "15:00", "team1": a, "team2": b, "score": {"ft": [0, 1]}},
        {"date": "2020-03-17", "time": "20:30", "team1": b, "team2": a},
    ])
    result = betsdb("import", path, "--shift-to-future")
    assert result.returncode == 0, show(result)
    dates = sorted(m["date"] for m in matches_of(api, a))
    tomorrow = dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=1)
    assert dates == [f"{tomorrow.isoformat()}T15:00:00Z",
                     f"{(tomorrow + dt.timedelta(days=7)).isoformat()}T20:30:00Z"], dates
    assert all(m["status"] == "open" for m in matches_of(api, a))


def test_import_run_again_with_shift_to_future_creates_nothing_and_keeps_the_dates(api, tmp_path):
    a, b = teams(2)
    path = fixture_file(tmp_path, [
        {"round": "1", "date": "2020-03-10", "time": "15:00", "team1": a, "team2": b},
        {"round": "2", "date": "2020-03-17", "time": "20:30", "team1": b, "team2": a},
    ])
    first = betsdb("import", path, "--shift-to-future")
    assert first.returncode == 0, show(first)
    assert "2 created" in first.stdout, show(first)
    before = sorted((m["id"], m["date"]) for m in matches_of(api, a))
    assert len(before) == 2

    for args in (["--shift-to-future"], ["--shift-to-future", "--odds-seed", "9"], []):
        again = betsdb("import", path, *args)
        assert again.returncode == 0, show(again)
        assert "0 created" in again.stdout and "2 duplicates skipped" in again.stdout, (args, show(again))
        assert sorted((m["id"], m["date"]) for m in matches_of(api, a)) == before, args


def test_import_remembers_the_shift_of_a_file_by_its_name(api, tmp_path):
    """A later run of the same file (here: with a fixture added) uses the shift
    chosen on its first import, not one from "now" and its own earliest date."""
    a, b, c = teams(3)
    name = f"Shift League {uuid.uuid4().hex[:12]}"
    first = [{"round": "1", "date": "2020-03-10", "time": "15:00", "team1": a, "team2": b}]
    result = betsdb("import", fixture_file(tmp_path, first, name=name), "--shift-to-future")
    assert result.returncode == 0, show(result)
    tomorrow = dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=1)
    assert [m["date"] for m in matches_of(api, a)] == [f"{tomorrow.isoformat()}T15:00:00Z"]

    later = first + [{"round": "2", "date": "2020-03-17", "time": "20:30", "team1": c, "team2": a}]
    result = betsdb("import", fixture_file(tmp_path, later[1:], name=name), "--shift-to-future")
    assert result.returncode == 0, show(result)
    assert "1 created" in result.stdout, show(result)
    assert [m["date"] for m in matches_of(api, c)] == [f"{(tomorrow + dt.timedelta(days=7)).isoformat()}T20:30:00Z"]

    result = betsdb("import", fixture_file(tmp_path, later, name=name), "--shift-to-future")
    assert result.returncode == 0, show(result)
    assert "0 created" in result.stdout and "2 duplicates skipped" in result.stdout, show(result)
    assert len(matches_of(api, a)) == 2


def test_import_skips_malformed_entries_and_exits_1(api, tmp_path):
    a, b = teams(2)
    path = fixture_file(tmp_path, [
        {"date": "2031-07-01", "time": "20:00", "team1": a, "team2": b},
        {"date": "2031-02-30", "time": "20:00", "team1": b, "team2": a},
        {"date": "2031-07-02", "team1": a, "team2": a.upper()},
    ])
    result = betsdb("import", path)
    assert result.returncode == 1, show(result)
    assert "1 created" in result.stdout and "2 invalid skipped" in result.stdout, show(result)
    assert "match #1" in result.stderr and "match #2" in result.stderr, show(result)
    assert len(matches_of(api, a)) == 1


def test_import_odds_depend_only_on_the_teams_and_the_seed(api, tmp_path):
    a, b = teams(2)

    def import_at(date, seed):
        path = fixture_file(tmp_path, [{"date": date, "time": "20:00", "team1": a, "team2": b}])
        result = betsdb("import", path, "--odds-seed", str(seed))
        assert result.returncode == 0, show(result)
        items = json_decimal(api.get("/v1/matches", params={"team": a, "limit": 100}))["items"]
        return next(m for m in items if m["date"] == f"{date}T20:00:00Z")

    first = import_at("2031-08-01", 7)
    same_seed = import_at("2031-08-08", 7)
    other_seed = import_at("2031-08-15", 8)
    for m in (first, same_seed, other_seed):
        check_odds(m)
    assert same_seed["odds"] == first["odds"]
    assert other_seed["odds"] != first["odds"]


@pytest.mark.parametrize("args", [[], ["a.json", "b.json"], ["a.json", "--bogus"],
                                  ["a.json", "--odds-seed=x"], ["/nonexistent/fixtures.json"]])
def test_import_refuses_bad_arguments(args):
    result = betsdb("import", *args)
    assert result.returncode == 2, show(result)


def test_import_refuses_a_file_that_is_not_fixtures(tmp_path):
    path = tmp_path / "not-fixtures.json"
    path.write_text('{"teams": []}')
    result = betsdb("import", str(path))
    assert result.returncode == 2, show(result)
    assert "matches" in result.stderr, show(result)


def test_import_draws_a_progress_bar_on_a_terminal(tmp_path):
    a, b = teams(2)
    path = fixture_file(tmp_path, [{"date": "2031-09-01", "team1": a, "team2": b}])
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(["betsdb", "import", path], executable=betsdb_exe(), env=cli_env(),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        slave = None
        drawn = b""
        while True:
            ready, _, _ = select.select([master], [], [], CLI_TIMEOUT_S)
            assert ready, "no output on the terminal"
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            drawn += chunk
        stdout, _ = proc.communicate(timeout=CLI_TIMEOUT_S)
        assert proc.returncode == 0, (stdout, drawn)
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)
    text = drawn.decode("utf-8", errors="replace")
    assert "\r" in text and "importing [" in text and "100% 1/1" in text, text


# ------------------------------------------- migrations as a separate owner

def test_a_server_role_with_table_rights_only_migrates_nothing_and_cannot_change_the_audit():
    """docs/operations.md: migrations run as an owner role; the server's role
    gets SELECT/INSERT/UPDATE/DELETE on the tables but no UPDATE, DELETE or
    TRUNCATE on the audit. `betsdb migrate` as that role finds nothing to do
    (it must not even try to create a table), and the audit refuses it."""
    admin_url = urllib.parse.urlparse(required_env("BETSDB_TEST_DATABASE_URL"))
    suffix = uuid.uuid4().hex[:10]
    owner, app, database = f"owner_{suffix}", f"app_{suffix}", f"roles_{suffix}"

    def url(role, db):
        return admin_url._replace(netloc=f"{role}@{admin_url.hostname}:{admin_url.port}",
                                  path=f"/{db}").geturl()

    admin = psycopg2.connect(admin_url.geturl())
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"CREATE ROLE {owner} LOGIN")
        cur.execute(f"CREATE ROLE {app} LOGIN")
        cur.execute(f"CREATE DATABASE {database} OWNER {owner}")
    try:
        with psycopg2.connect(url("postgres", database)) as conn, conn.cursor() as cur:
            cur.execute(f"ALTER SCHEMA public OWNER TO {owner}")
        migrated = betsdb("migrate", env=cli_env(BETSDB_DATABASE_URL=url(owner, database)))
        assert migrated.returncode == 0, show(migrated)
        owner_conn = psycopg2.connect(url(owner, database))
        with owner_conn, owner_conn.cursor() as cur:
            cur.execute(f"GRANT USAGE ON SCHEMA public TO {app}")
            cur.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}")
            cur.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}")
            cur.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM {app}")
        owner_conn.close()

        again = betsdb("migrate", env=cli_env(BETSDB_DATABASE_URL=url(app, database)))
        assert again.returncode == 0, show(again)

        app_conn = psycopg2.connect(url(app, database))
        try:
            with app_conn.cursor() as cur:
                cur.execute("INSERT INTO audit (actor, action, target, request_id) "
                            "VALUES ('owner', 'match.create', 'match:1', 'r1')")
            app_conn.commit()
            for sql in ("UPDATE audit SET action = 'match.resume'", "DELETE FROM audit",
                        "TRUNCATE audit"):
                with pytest.raises(psycopg2.Error) as refused, app_conn.cursor() as cur:
                    cur.execute(sql)
                assert refused.value.pgcode == "42501", f"{sql}: {refused.value}"
                app_conn.rollback()
            with app_conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM audit")
                assert cur.fetchone()[0] == 1
        finally:
            app_conn.close()
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            cur.execute(f"DROP ROLE IF EXISTS {app}")
            cur.execute(f"DROP ROLE IF EXISTS {owner}")
        admin.close()


def test_check_verifies_the_running_totals_of_the_limit_windows(api, db, new_user, new_match):
    """The stake and deposit limits are computed from running totals on the
    ledger (docs/architecture.md): check proves them equal to the ledger."""
    match = new_match()
    bettor = new_user(balance=5_000)
    bet = expect_json(api.post("/v1/bets", json={
        "user_id": bettor.id, "match_id": match["id"], "selection": "1", "stake": 700},
        token=bettor.token), 201)
    result = betsdb("check")
    assert result.returncode == 0, show(result)
    assert "limit windows consistent" in result.stdout, show(result)
    ledger = db.users_table.replace("users", "ledger")
    db.query(f"UPDATE {ledger} SET running_total = running_total + 1 "
             "WHERE bet_id = %s AND kind = 'stake' RETURNING id", (bet["id"],))
    try:
        result = betsdb("check")
        assert result.returncode == 1, show(result)
        assert "limit windows INCONSISTENT" in result.stdout, show(result)
        assert f" {bettor.id}" in result.stdout.split("limit windows INCONSISTENT")[1], show(result)
        assert "ledger consistent" in result.stdout, show(result)
    finally:
        db.query(f"UPDATE {ledger} SET running_total = running_total - 1 "
                 "WHERE bet_id = %s AND kind = 'stake' RETURNING id", (bet["id"],))
    result = betsdb("check")
    assert result.returncode == 0, show(result)
