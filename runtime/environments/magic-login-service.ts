// Magic login (docs/architecture.md "Security rules the code enforces"): a one-time WordPress admin link from a synchronous node query; every call is audited.
import fs from 'node:fs'
import path from 'node:path'
import type { Db } from '../store/db.js'
import { inTransaction } from '../store/db.js'
import { findEnvironment, type EnvironmentRow } from '../store/environments.js'
import { findDomain } from '../store/domains.js'
import { touchNodeLastSeen } from '../store/nodes.js'
import { insertAudit } from '../store/audit.js'
import type { Config } from '../config.js'
import type { SecretStore } from '../secrets/secret-store.js'
import { PRIVATE_KEY_SECRET } from '../ssh/control-plane-key.js'
import { magicLoginCommand, parseMagicLoginOutput, runNodeQuery } from '../ssh/node-query.js'
import type { Actor } from '../auth/auth-service.js'
import type { Logger } from '../logging.js'
import { ApiError } from '../contracts/errors.js'
import { loadNodeOf } from '../resources/guards.js'
import { nowIso } from '../clock.js'

const LOGGED_OUTPUT_CHARS = 2000

export class MagicLoginService {
  constructor(private readonly db: Db, private readonly config: Config, private readonly secrets: SecretStore, private readonly logger: Logger) {}

  async create(envId: string, actor: Actor): Promise<{ login_url: string; expires_at: string }> {
    const env = await findEnvironment(this.db, envId)
    if (!env) throw new ApiError('not_found', 'Environment not found')
    try {
      return await this.query(env, actor)
    } catch (error) {
      const code = error instanceof ApiError ? error.code : 'internal_error'
      await inTransaction(this.db, (tx) => insertAudit(tx, {
        user_id: actor.id, token_id: actor.token_id, action: 'magic_login', resource_type: 'environment', resource_id: env.id, result: 'failed', details: { code },
      }))
      throw error
    }
  }

  private async query(env: EnvironmentRow, actor: Actor): Promise<{ login_url: string; expires_at: string }> {
    // Not a job and takes no locks, so only the environment status matters (not the node's or a running job's).
    if (env.status !== 'active') throw new ApiError('environment_not_active', 'Environment must be active for this operation', { environment_id: env.id, status: env.status })
    const node = await loadNodeOf(this.db, env)
    const privateKey = await this.secrets.get(PRIVATE_KEY_SECRET)
    if (!privateKey) throw new Error('the control-plane SSH key is missing from the secrets store')
    fs.mkdirSync(this.config.dataDir, { recursive: true })
    const log = this.logger.child({ environment_id: env.id, node_id: node.id, site_id: env.site_id })

    const result = await runNodeQuery({
      target: node, remoteCommand: magicLoginCommand(env), privateKey,
      knownHostsFile: path.join(this.config.dataDir, 'known_hosts'), timeoutMs: this.config.nodeQueryTimeoutSeconds * 1000,
    })
    if (result.outcome === 'unreachable') {
      log.warn({ reason: result.reason, stderr: result.stderr.slice(-LOGGED_OUTPUT_CHARS) }, 'magic-login node query failed: node unreachable')
      throw new ApiError('node_unreachable', `Node ${node.name} could not be reached over SSH within ${this.config.nodeQueryTimeoutSeconds} s`, { node_id: node.id })
    }
    // ssh reached the node either way, which counts as a successful SSH interaction.
    await inTransaction(this.db, (tx) => touchNodeLastSeen(tx, node.id, nowIso()))
    if (result.outcome === 'remote_failed') {
      log.warn({ exit_code: result.exitCode, stdout: result.stdout.slice(-LOGGED_OUTPUT_CHARS), stderr: result.stderr.slice(-LOGGED_OUTPUT_CHARS) }, 'magic-login helper failed')
      throw new ApiError('wp_cli_error', 'The WordPress helper on the node failed to create a login token', { node_id: node.id })
    }
    const token = parseMagicLoginOutput(result.stdout)
    if (!token) {
      // The output may hold a token, so only its size is logged.
      log.warn({ stdout_bytes: result.stdout.length }, 'magic-login helper returned unexpected output')
      throw new ApiError('wp_cli_error', 'The WordPress helper on the node returned an unexpected answer', { node_id: node.id })
    }

    const loginUrl = `${await this.canonicalUrl(env)}/wp-login.php?pressluft_magic=${encodeURIComponent(token.token)}`
    await inTransaction(this.db, (tx) => insertAudit(tx, {
      user_id: actor.id, token_id: actor.token_id, action: 'magic_login', resource_type: 'environment', resource_id: env.id, result: 'succeeded',
      details: { node_id: node.id, expires_at: token.expires_at },
    }))
    return { login_url: loginUrl, expires_at: token.expires_at }
  }

  /** `https://<primary domain>` when the environment has one, else its preview URL. */
  private async canonicalUrl(env: EnvironmentRow): Promise<string> {
    const primary = env.primary_domain_id ? await findDomain(this.db, env.primary_domain_id) : undefined
    return primary ? `https://${primary.hostname}` : env.preview_url.replace(/\/+$/, '')
  }
}
