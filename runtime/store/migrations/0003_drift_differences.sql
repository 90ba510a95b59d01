-- Drift checks record which tables and paths differ from the baseline (amended drift meaning: what a promotion would
-- overwrite in production), and the environment keeps those of its latest check next to drift_status for the API.
ALTER TABLE drift_checks ADD COLUMN differences_json TEXT;
ALTER TABLE environments ADD COLUMN drift_differences_json TEXT;
