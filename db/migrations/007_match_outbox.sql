-- The live stream's outbox: every committed change of a match, waiting to be
-- published to the Redis stream (service/match_events.cpp).
--
-- Filled by triggers, so a row exists exactly when the change committed (it
-- is part of the same transaction) and whoever wrote it: the API, a
-- settlement, `betsdb import`, or SQL typed by hand. The snapshot is the
-- match row after the change, so each event shows that change, not a later one.
CREATE TABLE match_outbox (
  id         bigserial   PRIMARY KEY,
  match_id   bigint      NOT NULL,
  snapshot   jsonb       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION match_outbox_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO match_outbox (match_id, snapshot) VALUES (NEW.id, to_jsonb(NEW));
  RETURN NULL;
END
$$;

CREATE TRIGGER matches_outbox_insert AFTER INSERT ON matches
  FOR EACH ROW EXECUTE FUNCTION match_outbox_record();
-- An update that changed nothing (the same odds again) is no event.
CREATE TRIGGER matches_outbox_update AFTER UPDATE ON matches
  FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION match_outbox_record();
