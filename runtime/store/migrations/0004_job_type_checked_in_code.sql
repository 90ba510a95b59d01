-- job_type is validated in code against the job type modules (runtime/jobs/types/), so a new job type needs no
-- migration. SQLite cannot drop a CHECK constraint in place: this rebuilds the jobs table once, keeping every row and
-- the nine indexes of 0001 and 0002. The directive below makes migrate.ts run it with foreign keys off (they point at
-- jobs from parent_job_id and audit_logs.job_id) and run PRAGMA foreign_key_check before it commits.
-- pressluft:foreign-keys-off
CREATE TABLE jobs_rebuilt (
  id TEXT PRIMARY KEY,
  job_type TEXT NOT NULL,
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
INSERT INTO jobs_rebuilt (id, job_type, status, site_id, environment_id, node_id, parent_job_id, requested_by, payload_json, attempt_count,
    max_attempts, run_after, locked_at, locked_by, started_at, finished_at, error_code, error_message, created_at, updated_at)
  SELECT id, job_type, status, site_id, environment_id, node_id, parent_job_id, requested_by, payload_json, attempt_count,
    max_attempts, run_after, locked_at, locked_by, started_at, finished_at, error_code, error_message, created_at, updated_at FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_rebuilt RENAME TO jobs;
CREATE INDEX jobs_status_run_after ON jobs(status, run_after);
CREATE INDEX jobs_site_status ON jobs(site_id, status);
CREATE INDEX jobs_node_status ON jobs(node_id, status);
CREATE INDEX jobs_environment_status ON jobs(environment_id, status);
CREATE INDEX jobs_parent ON jobs(parent_job_id);
CREATE INDEX jobs_created ON jobs(created_at, id);
CREATE INDEX jobs_claim_follow_ups ON jobs(COALESCE(run_after, created_at), created_at, id) WHERE status = 'queued' AND parent_job_id IS NOT NULL;
CREATE INDEX jobs_claim_others ON jobs(COALESCE(run_after, created_at), created_at, id) WHERE status = 'queued' AND parent_job_id IS NULL;
CREATE INDEX jobs_queued_follow_ups_site ON jobs(site_id) WHERE status = 'queued' AND parent_job_id IS NOT NULL;
