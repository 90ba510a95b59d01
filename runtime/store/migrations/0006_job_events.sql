-- Live job progress (docs/architecture.md "Live job progress", docs/decisions.md "Job event history"): the ordered
-- events of a job — status changes, Ansible task starts and ends with task n of m, and redacted output lines — so a
-- subscriber that joins late, or after the job ended, gets the same history as one that watched it live. Bounded:
-- at most 512 KiB of events per job (output beyond it is dropped with one `truncated` event), and only the newest
-- 200 finished jobs keep their events (older ones are pruned by the control plane).
CREATE TABLE job_events (
  job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('status', 'task', 'progress', 'output', 'truncated')),
  data_json TEXT NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
