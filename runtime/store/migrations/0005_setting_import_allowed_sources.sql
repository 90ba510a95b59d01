-- The operator setting import_allowed_sources (host names and CIDR ranges an import archive may come from although
-- they are private or reserved; docs/decisions.md "Import archive URLs"). SQLite cannot change a CHECK constraint in
-- place: the settings table is rebuilt once with the new key in its list, keeping every row. Nothing references it.
CREATE TABLE settings_rebuilt (
  key TEXT PRIMARY KEY CHECK (key IN (
    'control_plane_domain', 'preview_domain', 'dns01_provider', 'dns01_credentials_json',
    'backup_s3_endpoint', 'backup_s3_region', 'backup_s3_bucket', 'backup_s3_access_key_id',
    'backup_s3_secret_access_key', 'backup_retention_days', 'hetzner_api_token', 'hetzner_api_base_url',
    'import_allowed_sources')),
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
INSERT INTO settings_rebuilt (key, value, updated_at) SELECT key, value, updated_at FROM settings;
DROP TABLE settings;
ALTER TABLE settings_rebuilt RENAME TO settings;
