// SQL for domains; is_primary is derived from environments.primary_domain_id.
import type { Executor } from './db.js'
import { queryOne, run } from './db.js'
import { selectPage, type Page, type PageRequest } from './pagination.js'
import type { TlsStatus } from '../contracts/enums.js'

export interface DomainRow {
  id: string; environment_id: string; hostname: string; tls_status: TlsStatus; tls_issuer: 'letsencrypt'
  is_primary: number; created_at: string; updated_at: string
}

const SELECT_DOMAIN = `SELECT d.*, CASE WHEN e.primary_domain_id = d.id THEN 1 ELSE 0 END AS is_primary
  FROM domains d JOIN environments e ON e.id = d.environment_id`

export async function insertDomain(ex: Executor, domain: { id: string; environment_id: string; hostname: string; now: string }): Promise<void> {
  await run(ex, `INSERT INTO domains (id, environment_id, hostname, tls_status, tls_issuer, created_at, updated_at)
    VALUES (?, ?, ?, 'pending', 'letsencrypt', ?, ?)`, [domain.id, domain.environment_id, domain.hostname, domain.now, domain.now])
}

export async function findDomain(ex: Executor, id: string): Promise<DomainRow | undefined> {
  return queryOne<DomainRow>(ex, `${SELECT_DOMAIN} WHERE d.id = ?`, [id])
}

export async function findDomainByHostname(ex: Executor, hostname: string): Promise<DomainRow | undefined> {
  return queryOne<DomainRow>(ex, `${SELECT_DOMAIN} WHERE d.hostname = ?`, [hostname])
}

export async function listDomainsOfEnvironment(ex: Executor, environmentId: string, page: PageRequest): Promise<Page<DomainRow>> {
  return selectPage<DomainRow>(ex, {
    select: 'd.*, CASE WHEN e.primary_domain_id = d.id THEN 1 ELSE 0 END AS is_primary',
    from: 'domains d JOIN environments e ON e.id = d.environment_id',
    where: ['d.environment_id = ?'], args: [environmentId], alias: 'd',
  }, page)
}

/** Conditional TLS status change (domains have no state_version): 0 when the status is no longer `from`. */
export async function updateDomainStatus(ex: Executor, id: string, from: TlsStatus, to: TlsStatus, now: string): Promise<number> {
  return run(ex, 'UPDATE domains SET tls_status = ?, updated_at = ? WHERE id = ? AND tls_status = ?', [to, now, id, from])
}

/** The queued or running domain_remove of a domain, found through its payload. */
export async function findOpenDomainRemoveJob(ex: Executor, domain: { id: string; environment_id: string }): Promise<{ id: string } | undefined> {
  return queryOne<{ id: string }>(ex, `SELECT id FROM jobs WHERE environment_id = ? AND job_type = 'domain_remove'
    AND status IN ('queued', 'running') AND json_extract(payload_json, '$.domain_id') = ? ORDER BY created_at, id LIMIT 1`,
  [domain.environment_id, domain.id])
}
