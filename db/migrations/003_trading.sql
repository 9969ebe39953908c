-- Trading safety (docs/api.md, "Prices, suspension and limits"): a match can
-- be suspended, carries a version of its prices and optional limits; a bet
-- records the version it was priced at; match_exposure keeps, per match, the
-- pending single bets' stakes and potential payouts per selection, so the
-- liability rule is one locked row away (docs/architecture.md, "Trading safety").

ALTER TABLE matches DROP CONSTRAINT matches_status_check;
ALTER TABLE matches ADD CONSTRAINT matches_status_check
  CHECK (status IN ('open', 'suspended', 'settled'));
ALTER TABLE matches
  ADD COLUMN odds_version  integer NOT NULL DEFAULT 1,
  ADD COLUMN max_stake     bigint,
  ADD COLUMN max_liability bigint,
  ADD CONSTRAINT matches_odds_version_positive CHECK (odds_version >= 1),
  ADD CONSTRAINT matches_max_stake_range CHECK (max_stake BETWEEN 1 AND 100000000),
  ADD CONSTRAINT matches_max_liability_range CHECK (max_liability BETWEEN 1 AND 1000000000000);

-- NULL for bets placed before versions existed.
ALTER TABLE bets ADD COLUMN odds_version integer;

CREATE TABLE match_exposure (
  match_id  bigint PRIMARY KEY REFERENCES matches (id),
  bets      bigint NOT NULL DEFAULT 0,
  stake_1   bigint NOT NULL DEFAULT 0,
  stake_x   bigint NOT NULL DEFAULT 0,
  stake_2   bigint NOT NULL DEFAULT 0,
  payout_1  bigint NOT NULL DEFAULT 0,
  payout_x  bigint NOT NULL DEFAULT 0,
  payout_2  bigint NOT NULL DEFAULT 0,
  CONSTRAINT match_exposure_non_negative CHECK (
    bets >= 0 AND stake_1 >= 0 AND stake_x >= 0 AND stake_2 >= 0 AND
    payout_1 >= 0 AND payout_x >= 0 AND payout_2 >= 0)
);

-- Every match has its row, made with the match whatever inserts it, so a
-- placement always finds one to lock.
CREATE FUNCTION match_exposure_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO match_exposure (match_id) VALUES (NEW.id);
  RETURN NULL;
END $$;
CREATE TRIGGER matches_exposure_row AFTER INSERT ON matches
  FOR EACH ROW EXECUTE FUNCTION match_exposure_row();

-- The pending bets placed before this migration are counted.
INSERT INTO match_exposure (match_id, bets, stake_1, stake_x, stake_2, payout_1, payout_x, payout_2)
SELECT m.id,
       count(b.id),
       coalesce(sum(b.stake) FILTER (WHERE b.selection = '1'), 0),
       coalesce(sum(b.stake) FILTER (WHERE b.selection = 'X'), 0),
       coalesce(sum(b.stake) FILTER (WHERE b.selection = '2'), 0),
       coalesce(sum(b.potential_payout) FILTER (WHERE b.selection = '1'), 0),
       coalesce(sum(b.potential_payout) FILTER (WHERE b.selection = 'X'), 0),
       coalesce(sum(b.potential_payout) FILTER (WHERE b.selection = '2'), 0)
FROM matches m LEFT JOIN bets b ON b.match_id = m.id AND b.status = 'pending'
GROUP BY m.id;
