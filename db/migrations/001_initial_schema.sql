-- Users, matches, bets and the ledger: the durable truth.
-- Money is bigint minor units; odds are integer hundredths (2.10 -> 210).

CREATE TABLE users (
  id          bigserial PRIMARY KEY,
  email       text        NOT NULL,
  name        text        NOT NULL,
  balance     bigint      NOT NULL DEFAULT 0,
  token_hash  bytea       NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT users_email_key UNIQUE (email),
  CONSTRAINT users_token_hash_key UNIQUE (token_hash),
  -- The last line of defence: no code path can make a balance negative.
  CONSTRAINT users_balance_non_negative CHECK (balance >= 0)
);

CREATE TABLE matches (
  id          bigserial PRIMARY KEY,
  team_1      text        NOT NULL,
  team_2      text        NOT NULL,
  starts_at   timestamptz NOT NULL,
  odds_1      integer,
  odds_x      integer,
  odds_2      integer,
  status      text        NOT NULL DEFAULT 'open',
  result      text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  settled_at  timestamptz,
  CONSTRAINT matches_teams_date_key UNIQUE (team_1, team_2, starts_at),
  CONSTRAINT matches_status_check CHECK (status IN ('open', 'settled')),
  CONSTRAINT matches_result_check CHECK (result IN ('1', 'X', '2', 'void')),
  CONSTRAINT matches_settled_has_result CHECK ((status = 'settled') = (result IS NOT NULL)),
  CONSTRAINT matches_some_odds CHECK (odds_1 IS NOT NULL OR odds_x IS NOT NULL OR odds_2 IS NOT NULL),
  CONSTRAINT matches_odds_range CHECK (
    (odds_1 IS NULL OR odds_1 BETWEEN 101 AND 100000) AND
    (odds_x IS NULL OR odds_x BETWEEN 101 AND 100000) AND
    (odds_2 IS NULL OR odds_2 BETWEEN 101 AND 100000))
);
CREATE INDEX matches_starts_at_idx ON matches (starts_at, id);
CREATE INDEX matches_status_starts_at_idx ON matches (status, starts_at, id);
CREATE INDEX matches_team_1_idx ON matches (lower(team_1));
CREATE INDEX matches_team_2_idx ON matches (lower(team_2));

CREATE TABLE bets (
  id                bigserial PRIMARY KEY,
  user_id           bigint      NOT NULL REFERENCES users (id),
  match_id          bigint      NOT NULL REFERENCES matches (id),
  selection         text        NOT NULL,
  stake             bigint      NOT NULL,
  odds              integer     NOT NULL,
  potential_payout  bigint      NOT NULL,
  status            text        NOT NULL DEFAULT 'pending',
  created_at        timestamptz NOT NULL DEFAULT now(),
  settled_at        timestamptz,
  CONSTRAINT bets_selection_check CHECK (selection IN ('1', 'X', '2')),
  CONSTRAINT bets_stake_range CHECK (stake BETWEEN 1 AND 100000000),
  CONSTRAINT bets_odds_range CHECK (odds BETWEEN 101 AND 100000),
  CONSTRAINT bets_status_check CHECK (status IN ('pending', 'won', 'lost', 'void'))
);
-- At most one live (non-void) bet per user, match and selection, whatever
-- Redis does: the final guard against duplicate bets.
CREATE UNIQUE INDEX bets_one_live_per_selection
  ON bets (user_id, match_id, selection) WHERE status <> 'void';
CREATE INDEX bets_match_pending_idx ON bets (match_id) WHERE status = 'pending';

CREATE TABLE ledger (
  id             bigserial PRIMARY KEY,
  user_id        bigint      NOT NULL REFERENCES users (id),
  kind           text        NOT NULL,
  amount         bigint      NOT NULL,
  bet_id         bigint      REFERENCES bets (id),
  balance_after  bigint      NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ledger_kind_check CHECK (kind IN ('deposit', 'stake', 'payout', 'refund')),
  CONSTRAINT ledger_balance_after_non_negative CHECK (balance_after >= 0)
);
CREATE INDEX ledger_user_idx ON ledger (user_id, id DESC);
