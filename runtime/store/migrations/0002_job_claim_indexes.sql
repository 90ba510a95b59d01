-- Claim-order indexes of the job queue: follow-ups and other queued jobs each in COALESCE(run_after, created_at), created_at, id
-- order, so picking the next eligible job walks a short prefix instead of sorting the whole queue.
CREATE INDEX jobs_claim_follow_ups ON jobs(COALESCE(run_after, created_at), created_at, id) WHERE status = 'queued' AND parent_job_id IS NOT NULL;
CREATE INDEX jobs_claim_others ON jobs(COALESCE(run_after, created_at), created_at, id) WHERE status = 'queued' AND parent_job_id IS NULL;
-- Rule 3 (a site's queued follow-up runs first) probes this per candidate.
CREATE INDEX jobs_queued_follow_ups_site ON jobs(site_id) WHERE status = 'queued' AND parent_job_id IS NOT NULL;
