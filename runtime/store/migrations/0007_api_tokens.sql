-- API tokens for scripts and CI (docs/decisions.md "API tokens"): `Authorization: Bearer plt_…`. Only the SHA-256 hex of
-- the token is stored (token_hash, unique: the lookup is by hash); the token itself is shown once at creation.
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  expires_at TEXT,
  last_used_at TEXT,
  revoked_at TEXT
);
CREATE INDEX api_tokens_user_created ON api_tokens(user_id, created_at, id);
