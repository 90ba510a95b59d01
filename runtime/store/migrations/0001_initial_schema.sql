-- Initial schema: every table of the data model (docs/architecture.md) with its CHECK constraints and indexes.

CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin')),
  password_hash TEXT NOT NULL,
  is_active INTEGER NOT NULL CHECK (is_active IN (0, 1)),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE auth_sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  session_token TEXT NOT NULL UNIQUE,
  expires_at TEXT NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
CREATE INDEX auth_sessions_user ON auth_sessions(user_id);

CREATE TABLE nodes (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  hostname TEXT NOT NULL,
  public_ip TEXT,
  ssh_port INTEGER NOT NULL DEFAULT 22 CHECK (ssh_port BETWEEN 1 AND 65535),
  ssh_user TEXT NOT NULL DEFAULT 'root',
  status TEXT NOT NULL CHECK (status IN ('active', 'provisioning', 'unreachable', 'decommissioned')),
  is_local INTEGER NOT NULL CHECK (is_local IN (0, 1)),
  provider TEXT CHECK (provider IS NULL OR provider IN ('hetzner')),
  provider_server_id TEXT,
  last_seen_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  state_version INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX nodes_one_local ON nodes(is_local) WHERE is_local = 1;

CREATE TABLE sites (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  slug TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL CHECK (status IN ('active', 'cloning', 'deploying', 'restoring', 'failed')),
  primary_environment_id TEXT REFERENCES environments(id),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  state_version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE environments (
  id TEXT PRIMARY KEY,
  site_id TEXT NOT NULL REFERENCES sites(id),
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  slug TEXT NOT NULL,
  environment_type TEXT NOT NULL CHECK (environment_type IN ('production', 'staging', 'clone')),
  status TEXT NOT NULL CHECK (status IN ('active', 'cloning', 'deploying', 'restoring', 'failed')),
  node_id TEXT NOT NULL REFERENCES nodes(id),
  source_environment_id TEXT REFERENCES environments(id),
  promotion_preset TEXT NOT NULL CHECK (promotion_preset IN ('content-protect', 'commerce-protect')),
  preview_url TEXT NOT NULL UNIQUE,
  primary_domain_id TEXT REFERENCES domains(id),
  current_release_id TEXT REFERENCES releases(id),
  drift_status TEXT NOT NULL DEFAULT 'unknown' CHECK (drift_status IN ('unknown', 'clean', 'drifted')),
  drift_checked_at TEXT,
  last_drift_check_id TEXT REFERENCES drift_checks(id),
  fastcgi_cache_enabled INTEGER NOT NULL DEFAULT 1 CHECK (fastcgi_cache_enabled IN (0, 1)),
  redis_cache_enabled INTEGER NOT NULL DEFAULT 1 CHECK (redis_cache_enabled IN (0, 1)),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  state_version INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX environments_site_slug ON environments(site_id, slug);
CREATE INDEX environments_node ON environments(node_id);
-- uuid8 (first 8 hex chars of the id) names node-side resources, so it must be unique.
CREATE UNIQUE INDEX environments_uuid8 ON environments(substr(id, 1, 8));

CREATE TABLE releases (
  id TEXT PRIMARY KEY,
  environment_id TEXT NOT NULL REFERENCES environments(id),
  source_type TEXT NOT NULL CHECK (source_type IN ('git', 'upload')),
  source_ref TEXT NOT NULL,
  path TEXT NOT NULL,
  health_status TEXT NOT NULL DEFAULT 'unknown' CHECK (health_status IN ('unknown', 'healthy', 'unhealthy')),
  notes TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX releases_environment_created ON releases(environment_id, created_at);

CREATE TABLE backups (
  id TEXT PRIMARY KEY,
  environment_id TEXT NOT NULL REFERENCES environments(id),
  backup_scope TEXT NOT NULL CHECK (backup_scope IN ('db', 'files', 'full')),
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed', 'expired')),
  storage_type TEXT NOT NULL CHECK (storage_type IN ('s3')),
  storage_path TEXT NOT NULL,
  retention_until TEXT NOT NULL,
  checksum TEXT,
  size_bytes INTEGER,
  created_at TEXT NOT NULL,
  completed_at TEXT
);
CREATE INDEX backups_environment_created ON backups(environment_id, created_at);
CREATE INDEX backups_status_retention ON backups(status, retention_until);

CREATE TABLE domains (
  id TEXT PRIMARY KEY,
  environment_id TEXT NOT NULL REFERENCES environments(id),
  hostname TEXT NOT NULL UNIQUE,
  tls_status TEXT NOT NULL CHECK (tls_status IN ('pending', 'active', 'failed', 'disabled')),
  tls_issuer TEXT NOT NULL CHECK (tls_issuer IN ('letsencrypt')),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX domains_environment ON domains(environment_id);

CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  job_type TEXT NOT NULL CHECK (job_type IN (
    'node_provision', 'site_create', 'site_import', 'env_create', 'env_deploy', 'env_update',
    'env_restore', 'env_promote', 'env_cache_toggle', 'cache_purge', 'backup_create', 'domain_add',
    'domain_remove', 'drift_check', 'health_check', 'release_rollback', 'backup_cleanup')),
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  site_id TEXT REFERENCES sites(id),
  environment_id TEXT REFERENCES environments(id),
  node_id TEXT REFERENCES nodes(id),
  parent_job_id TEXT REFERENCES jobs(id),
  requested_by TEXT REFERENCES users(id),
  payload_json TEXT NOT NULL,
  attempt_count INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 3,
  run_after TEXT,
  locked_at TEXT,
  locked_by TEXT,
  started_at TEXT,
  finished_at TEXT,
  error_code TEXT,
  error_message TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX jobs_status_run_after ON jobs(status, run_after);
CREATE INDEX jobs_site_status ON jobs(site_id, status);
CREATE INDEX jobs_node_status ON jobs(node_id, status);
CREATE INDEX jobs_environment_status ON jobs(environment_id, status);
CREATE INDEX jobs_parent ON jobs(parent_job_id);
CREATE INDEX jobs_created ON jobs(created_at, id);

CREATE TABLE drift_checks (
  id TEXT PRIMARY KEY,
  environment_id TEXT NOT NULL REFERENCES environments(id),
  kind TEXT NOT NULL CHECK (kind IN ('baseline', 'check')),
  promotion_preset TEXT NOT NULL CHECK (promotion_preset IN ('content-protect', 'commerce-protect')),
  status TEXT NOT NULL CHECK (status IN ('unknown', 'clean', 'drifted')),
  db_checksums_json TEXT,
  file_checksums_json TEXT,
  checked_at TEXT NOT NULL
);
CREATE INDEX drift_checks_environment_checked ON drift_checks(environment_id, checked_at);

CREATE TABLE audit_logs (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  action TEXT NOT NULL,
  resource_type TEXT NOT NULL CHECK (resource_type IN ('site', 'environment', 'node', 'backup', 'domain', 'job', 'settings', 'user')),
  resource_id TEXT NOT NULL,
  result TEXT NOT NULL CHECK (result IN ('accepted', 'succeeded', 'failed', 'cancelled')),
  job_id TEXT REFERENCES jobs(id),
  details_json TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX audit_logs_created ON audit_logs(created_at);
CREATE INDEX audit_logs_resource ON audit_logs(resource_type, resource_id);
CREATE INDEX audit_logs_job ON audit_logs(job_id);

CREATE TABLE settings (
  key TEXT PRIMARY KEY CHECK (key IN (
    'control_plane_domain', 'preview_domain', 'dns01_provider', 'dns01_credentials_json',
    'backup_s3_endpoint', 'backup_s3_region', 'backup_s3_bucket', 'backup_s3_access_key_id',
    'backup_s3_secret_access_key', 'backup_retention_days', 'hetzner_api_token', 'hetzner_api_base_url')),
  value TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
