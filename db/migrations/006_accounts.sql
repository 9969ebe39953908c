-- Accounts and access: passwords, sessions that can be revoked, operators with
-- roles, and an append-only audit of every operator write.
--
-- Sign-up tokens stay in users.token_hash (instances from before this
-- migration keep working against it); revoking one sets token_revoked_at.
-- Sessions made by signing in with a password live in `sessions`.

ALTER TABLE users
  ADD COLUMN password_hash    text,         -- Argon2id (libsodium crypto_pwhash_str); NULL: none
  ADD COLUMN token_revoked_at timestamptz;  -- the sign-up token was revoked

CREATE TABLE operators (
  id            bigserial   PRIMARY KEY,
  email         text        NOT NULL,
  role          text        NOT NULL,
  password_hash text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT operators_email_key UNIQUE (email),
  CONSTRAINT operators_role_check CHECK (role IN ('admin', 'trader', 'support'))
);

-- One email, one account, whether a user's or an operator's: each insert into
-- either table claims its email here, so two concurrent sign-ups of one email
-- (one of each kind) cannot both commit.
CREATE TABLE account_emails (
  email text NOT NULL,
  CONSTRAINT account_emails_email_key PRIMARY KEY (email)
);
INSERT INTO account_emails (email) SELECT email FROM users;

CREATE FUNCTION claim_account_email() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO account_emails (email) VALUES (NEW.email);
  RETURN NEW;
END
$$;
CREATE TRIGGER users_claim_email BEFORE INSERT ON users
  FOR EACH ROW EXECUTE FUNCTION claim_account_email();
CREATE TRIGGER operators_claim_email BEFORE INSERT ON operators
  FOR EACH ROW EXECUTE FUNCTION claim_account_email();

CREATE TABLE sessions (
  id          bigserial   PRIMARY KEY,
  token_hash  bytea       NOT NULL,
  user_id     bigint      REFERENCES users (id),
  operator_id bigint      REFERENCES operators (id),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz,
  CONSTRAINT sessions_token_hash_key UNIQUE (token_hash),
  CONSTRAINT sessions_one_account CHECK ((user_id IS NULL) <> (operator_id IS NULL))
);

CREATE TABLE audit (
  id         bigserial   PRIMARY KEY,
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text        NOT NULL,  -- 'owner' or 'operator:<id>'
  action     text        NOT NULL,  -- 'match.create', ...
  target     text        NOT NULL,  -- 'match:<id>', 'user:<id>', 'operator:<id>'
  request_id text        NOT NULL,
  details    jsonb       NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_actor_idx ON audit (actor, id);
CREATE INDEX audit_action_idx ON audit (action, id);

-- Append-only for everyone: the triggers hold even for the table's owner and
-- a superuser; the revoked rights say the same to a role that is neither.
CREATE FUNCTION audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit entries can never be changed or deleted'
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_no_update_or_delete BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
  FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON audit FROM CURRENT_USER;
