-- GET /api/sites reads its pages newest first (created_at DESC, id DESC, runtime/store/pagination.ts): with this index
-- SQLite walks the rows in that order and stops after the page instead of sorting every site on each request
-- (docs/performance.md, "API").
CREATE INDEX sites_page_order ON sites(created_at DESC, id DESC);
