-- Accumulators and cash-out (docs/api.md, "Accumulators" and "Cash-out").
-- A bet is a single (match_id, selection, odds) or an accumulator: its legs
-- in bet_legs, its combined odds (the legs' product rounded down to
-- hundredths) in combined_odds, and legs_key, the canonical text of its set
-- of (match, selection) legs, which the unique index below keeps to one
-- pending accumulator per user. A cashed-out bet keeps what it was paid.

ALTER TABLE bets
  ALTER COLUMN match_id DROP NOT NULL,
  ALTER COLUMN selection DROP NOT NULL,
  ALTER COLUMN odds DROP NOT NULL,
  ADD COLUMN type            text NOT NULL DEFAULT 'single',
  ADD COLUMN combined_odds   bigint,
  ADD COLUMN legs_key        text,
  ADD COLUMN cash_out_amount bigint;

ALTER TABLE bets DROP CONSTRAINT bets_status_check;
ALTER TABLE bets
  ADD CONSTRAINT bets_status_check
    CHECK (status IN ('pending', 'won', 'lost', 'void', 'cashed_out')),
  ADD CONSTRAINT bets_type_check CHECK (type IN ('single', 'accumulator')),
  ADD CONSTRAINT bets_type_shape CHECK (
    CASE type
      WHEN 'single' THEN match_id IS NOT NULL AND selection IS NOT NULL AND odds IS NOT NULL
                         AND combined_odds IS NULL AND legs_key IS NULL
      ELSE match_id IS NULL AND selection IS NULL AND odds IS NULL AND odds_version IS NULL
           AND combined_odds >= 101 AND legs_key IS NOT NULL
    END),
  ADD CONSTRAINT bets_payout_cap CHECK (potential_payout BETWEEN 0 AND 10000000000000),
  ADD CONSTRAINT bets_cash_out_shape
    CHECK ((status = 'cashed_out') = (cash_out_amount IS NOT NULL) AND
           (cash_out_amount IS NULL OR cash_out_amount > 0));

-- The singles' indexes leave accumulators out (no match, no selection): an
-- entry per accumulator would only cost every settlement that finishes one.
DROP INDEX bets_one_live_per_selection;
CREATE UNIQUE INDEX bets_one_live_per_selection
  ON bets (user_id, match_id, selection) WHERE status <> 'void' AND match_id IS NOT NULL;
DROP INDEX bets_match_pending_idx;
CREATE INDEX bets_match_pending_idx ON bets (match_id)
  WHERE status = 'pending' AND match_id IS NOT NULL;

-- The last guard against a duplicate accumulator, whatever Redis does.
CREATE UNIQUE INDEX bets_one_pending_accumulator
  ON bets (user_id, legs_key) WHERE status = 'pending' AND legs_key IS NOT NULL;

CREATE TABLE bet_legs (
  bet_id        bigint  NOT NULL REFERENCES bets (id),
  position      integer NOT NULL,
  match_id      bigint  NOT NULL REFERENCES matches (id),
  selection     text    NOT NULL,
  odds          integer NOT NULL,
  odds_version  integer NOT NULL,
  status        text    NOT NULL DEFAULT 'pending',
  PRIMARY KEY (bet_id, position),
  CONSTRAINT bet_legs_one_per_match UNIQUE (bet_id, match_id),
  CONSTRAINT bet_legs_selection_check CHECK (selection IN ('1', 'X', '2')),
  CONSTRAINT bet_legs_odds_range CHECK (odds BETWEEN 101 AND 100000),
  CONSTRAINT bet_legs_status_check CHECK (status IN ('pending', 'won', 'lost', 'void'))
) WITH (fillfactor = 70);
-- fillfactor: settlement changes only a leg's status, which no index holds,
-- so with room on the page the update is HOT (no index entries written): a
-- match's 100,000 legs settle about five times faster (docs/performance.md).
-- Settlement finds a match's pending legs; the bet filters find a match's legs.
CREATE INDEX bet_legs_match_idx ON bet_legs (match_id, bet_id);

ALTER TABLE ledger DROP CONSTRAINT ledger_kind_check;
ALTER TABLE ledger ADD CONSTRAINT ledger_kind_check
  CHECK (kind IN ('deposit', 'stake', 'payout', 'refund', 'cash_out'));

-- The exact product of numerics (numeric_mul is the function behind `*`):
-- an accumulator's payout is floor(stake x product of its won legs' odds).
CREATE AGGREGATE betsdb_product (numeric) (SFUNC = numeric_mul, STYPE = numeric, INITCOND = '1');
