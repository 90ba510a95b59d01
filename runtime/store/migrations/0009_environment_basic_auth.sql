-- HTTP basic auth per environment (docs/decisions.md "Staging protection"): what the operator asked for through
-- PUT /api/environments/{id}/basic-auth. The password's hash lives in the secret store; the row keeps only its
-- `secret:<name>` reference, like the secret settings do.
ALTER TABLE environments ADD COLUMN basic_auth_enabled INTEGER NOT NULL DEFAULT 0 CHECK (basic_auth_enabled IN (0, 1));
ALTER TABLE environments ADD COLUMN basic_auth_username TEXT;
ALTER TABLE environments ADD COLUMN basic_auth_password_ref TEXT;
