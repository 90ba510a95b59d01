// Nodes: list/get, and POST /api/nodes — register an SSH host or acquire a Hetzner server; both enqueue node_provision.
import crypto from 'node:crypto'
import type { Db } from '../store/db.js'
import { inTransaction } from '../store/db.js'
import {
  findNode, findNodeByName, findLocalNode, insertNode, listNodes, updateNodeForProvision, findOpenProvisionJob, type NodeRow,
} from '../store/nodes.js'
import { pageRequest, mapPage, type Page } from '../store/pagination.js'
import type { Config } from '../config.js'
import type { JobControl } from '../jobs/job-control.js'
import type { SettingsService } from '../settings/settings-service.js'
import type { Actor } from '../auth/auth-service.js'
import type { CreateNodeInput } from '../contracts/schemas.js'
import { ApiError } from '../contracts/errors.js'
import { isLocalHostname } from '../contracts/validation.js'
import { acceptJob } from '../jobs/accept-job.js'
import { requireUpdated } from '../resources/guards.js'
import { nowIso } from '../clock.js'

export function nodeView(row: NodeRow) {
  return {
    id: row.id, name: row.name, hostname: row.hostname, public_ip: row.public_ip, ssh_port: row.ssh_port, ssh_user: row.ssh_user,
    status: row.status, is_local: row.is_local === 1, provider: row.provider, provider_server_id: row.provider_server_id,
    last_seen_at: row.last_seen_at, created_at: row.created_at, updated_at: row.updated_at, state_version: row.state_version,
  }
}
export type NodeView = ReturnType<typeof nodeView>

type ConnectionFields = { hostname: string; public_ip: string | null; ssh_port: number; ssh_user: string; is_local: number }

export class NodeService {
  constructor(private readonly db: Db, private readonly config: Config, private readonly settings: SettingsService, private readonly jobControl: () => JobControl) {}

  async list(query: { limit?: number; cursor?: string }): Promise<Page<NodeView>> {
    return mapPage(await listNodes(this.db, pageRequest(query)), nodeView)
  }

  async get(id: string): Promise<NodeView> {
    const node = await findNode(this.db, id)
    if (!node) throw new ApiError('not_found', 'Node not found')
    return nodeView(node)
  }

  /**
   * New name → node `provisioning` + node_provision. An existing name of the same kind re-provisions it (register fields
   * overwrite the connection fields) unless its node_provision is still queued or running, whose id is answered instead.
   */
  async provision(input: CreateNodeInput, actor: Actor): Promise<{ job_id: string }> {
    const acquire = 'provider' in input
    const outcome = await inTransaction(this.db, async (tx) => {
      const existing = await findNodeByName(tx, input.name)
      if (existing && (existing.provider !== null) !== acquire) {
        throw new ApiError('node_exists', `Node name "${input.name}" belongs to a ${existing.provider ? 'provider-acquired' : 'registered'} node`, { node_id: existing.id })
      }
      if (existing?.status === 'decommissioned') throw new ApiError('conflict', 'The node is decommissioned', { node_id: existing.id, status: existing.status })
      if (acquire && !(await this.settings.snapshot(tx)).secretsSet.hetzner_api_token) {
        throw new ApiError('provider_not_configured', 'Set hetzner_api_token in /_admin/settings before acquiring nodes')
      }
      if (existing) {
        const open = await findOpenProvisionJob(tx, existing.id)
        if (open) return { jobId: open.id, created: false }
      }

      const fields: ConnectionFields = acquire
        // Until acquisition completes an acquired node's SSH target is its name (the address comes from the provider).
        ? existing ?? { hostname: input.name, public_ip: null, ssh_port: 22, ssh_user: 'root', is_local: 0 }
        : { hostname: input.hostname, public_ip: input.public_ip, ssh_port: input.ssh_port ?? 22, ssh_user: input.ssh_user ?? 'root', is_local: isLocalHostname(input.hostname) ? 1 : 0 }
      if (fields.is_local === 1) {
        const local = await findLocalNode(tx)
        if (local && local.id !== existing?.id) throw new ApiError('conflict', `The local node is already registered as "${local.name}"`, { node_id: local.id })
      }

      const now = nowIso()
      const nodeId = existing?.id ?? crypto.randomUUID()
      if (existing) {
        requireUpdated(await updateNodeForProvision(tx, existing.id, existing.state_version, fields, now), 'Node')
      } else {
        await insertNode(tx, {
          id: nodeId, name: input.name, ...fields, status: 'provisioning', provider: acquire ? 'hetzner' : null, created_at: now, updated_at: now,
        })
      }
      const payload = acquire
        ? { mode: 'acquire', server_type: input.server_type, location: input.location, image: input.image }
        : { mode: 'register' }
      const jobId = await acceptJob(tx, actor, this.config.maxAttempts, {
        job_type: 'node_provision', site_id: null, environment_id: null, node_id: nodeId, payload,
        resource: { type: 'node', id: nodeId }, details: { ...payload, reprovision: existing !== undefined },
      })
      return { jobId, created: true }
    })
    if (outcome.created) this.jobControl().wake()
    return { job_id: outcome.jobId }
  }
}
