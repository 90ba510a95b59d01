// Lookups that answer 404 and the state checks (409) of the API, shared by the site, environment, node, backup and domain services.
import type { Executor } from '../store/db.js'
import { findSite, type SiteRow } from '../store/sites.js'
import { findEnvironment, type EnvironmentRow } from '../store/environments.js'
import { findNode, type NodeRow } from '../store/nodes.js'
import { ApiError } from '../contracts/errors.js'

export async function loadSite(ex: Executor, id: string): Promise<SiteRow> {
  const site = await findSite(ex, id)
  if (!site) throw new ApiError('not_found', 'Site not found')
  return site
}

export async function loadEnvironment(ex: Executor, id: string, bodyField?: string): Promise<EnvironmentRow> {
  const env = await findEnvironment(ex, id)
  if (!env) throw new ApiError('not_found', 'Environment not found', bodyField ? { field: bodyField } : undefined)
  return env
}

/** The node an environment lives on; its absence would be a broken foreign key, so it is an internal error. */
export async function loadNodeOf(ex: Executor, env: { node_id: string }): Promise<NodeRow> {
  const node = await findNode(ex, env.node_id)
  if (!node) throw new Error(`node ${env.node_id} referenced by an environment does not exist`)
  return node
}

export function requireEnvironmentActive(env: EnvironmentRow): void {
  if (env.status !== 'active') {
    throw new ApiError('environment_not_active', 'Environment must be active for this operation', { environment_id: env.id, status: env.status })
  }
}

/** Site-level mutations (env create, import) need an active site. */
export function requireSiteActive(site: SiteRow): void {
  if (site.status !== 'active') throw new ApiError('site_not_active', 'Site must be active for this operation', { site_id: site.id, status: site.status })
}

/** Environment mutations that move site status (deploy, updates, restore, promote) only need the site not failed. */
export function requireSiteNotFailed(site: SiteRow): void {
  if (site.status === 'failed') throw new ApiError('site_not_active', 'Site is failed; reset it first', { site_id: site.id, status: site.status })
}

export function requireNodeActive(node: NodeRow): void {
  if (node.status !== 'active') throw new ApiError('node_not_active', 'Node must be active for this operation', { node_id: node.id, status: node.status })
}

/** Preview URLs embed the node's public IPv4, which every active node has (runtime/environments/preview-url.ts). */
export function publicIpOf(node: NodeRow): string {
  if (!node.public_ip) throw new ApiError('node_not_active', 'Node has no public IP yet', { node_id: node.id, status: node.status })
  return node.public_ip
}

export function requireBackupStorage(configured: boolean): void {
  if (!configured) {
    throw new ApiError('backup_storage_not_configured', 'Backup storage is not configured; set the backup_s3_* settings in /_admin/settings')
  }
}

/** Zero rows from a `WHERE state_version = ?` update: someone else changed the row after it was read. */
export function requireUpdated(rowsAffected: number, what: string): void {
  if (rowsAffected === 0) throw new ApiError('state_version_conflict', `${what} changed concurrently; re-read and retry`)
}
