// SQL for nodes, and the node_provision lookup the node API needs.
import type { Executor } from './db.js'
import { queryOne, run } from './db.js'
import { selectPage, type Page, type PageRequest } from './pagination.js'
import type { NodeStatus } from '../contracts/enums.js'

export interface NodeRow {
  id: string; name: string; hostname: string; public_ip: string | null; ssh_port: number; ssh_user: string
  status: NodeStatus; is_local: number; provider: 'hetzner' | null; provider_server_id: string | null
  last_seen_at: string | null; created_at: string; updated_at: string; state_version: number
}

export type NewNode = Omit<NodeRow, 'provider_server_id' | 'last_seen_at' | 'state_version'>

export async function insertNode(ex: Executor, node: NewNode): Promise<void> {
  await run(ex, `INSERT INTO nodes (id, name, hostname, public_ip, ssh_port, ssh_user, status, is_local, provider, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
    node.id, node.name, node.hostname, node.public_ip, node.ssh_port, node.ssh_user, node.status, node.is_local,
    node.provider, node.created_at, node.updated_at,
  ])
}

export async function findNode(ex: Executor, id: string): Promise<NodeRow | undefined> {
  return queryOne<NodeRow>(ex, 'SELECT * FROM nodes WHERE id = ?', [id])
}

export async function findNodeByName(ex: Executor, name: string): Promise<NodeRow | undefined> {
  return queryOne<NodeRow>(ex, 'SELECT * FROM nodes WHERE name = ?', [name])
}

export async function findLocalNode(ex: Executor): Promise<NodeRow | undefined> {
  return queryOne<NodeRow>(ex, 'SELECT * FROM nodes WHERE is_local = 1')
}

export async function listNodes(ex: Executor, page: PageRequest): Promise<Page<NodeRow>> {
  return selectPage<NodeRow>(ex, { from: 'nodes' }, page)
}

/** Placement for a new site: the active node with the fewest environments; ties go to the oldest node. */
export async function findLeastLoadedActiveNode(ex: Executor): Promise<NodeRow | undefined> {
  return queryOne<NodeRow>(ex, `SELECT n.* FROM nodes n
    WHERE n.status = 'active'
    ORDER BY (SELECT COUNT(*) FROM environments e WHERE e.node_id = n.id), n.created_at, n.id
    LIMIT 1`)
}

/** Re-provision: new connection fields (register) and status provisioning, if nobody changed the row since it was read. */
export async function updateNodeForProvision(ex: Executor, id: string, expectedVersion: number,
  fields: { hostname: string; public_ip: string | null; ssh_port: number; ssh_user: string; is_local: number }, now: string): Promise<number> {
  return run(ex, `UPDATE nodes SET hostname = ?, public_ip = ?, ssh_port = ?, ssh_user = ?, is_local = ?, status = 'provisioning',
      updated_at = ?, state_version = state_version + 1
    WHERE id = ? AND state_version = ?`, [
    fields.hostname, fields.public_ip, fields.ssh_port, fields.ssh_user, fields.is_local, now, id, expectedVersion,
  ])
}

/** A successful SSH interaction is a heartbeat, not a state change: it does not bump state_version. */
export async function touchNodeLastSeen(ex: Executor, id: string, now: string): Promise<void> {
  await run(ex, 'UPDATE nodes SET last_seen_at = ? WHERE id = ?', [now, id])
}

export async function findOpenProvisionJob(ex: Executor, nodeId: string): Promise<{ id: string } | undefined> {
  return queryOne<{ id: string }>(ex, `SELECT id FROM jobs WHERE node_id = ? AND job_type = 'node_provision'
    AND status IN ('queued', 'running') ORDER BY created_at, id LIMIT 1`, [nodeId])
}
