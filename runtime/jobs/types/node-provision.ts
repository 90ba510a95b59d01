// node_provision: turns a server into a Pressluft node (packages, web server, PHP, database, ACME, the helper).
// In acquire mode the server is first ordered from the provider (Hetzner) within the job's budget.
import path from 'node:path'
import { defineJobType } from '../job-type.js'
import { jobFailure as failure, type JobOutcome, type RunnerContext } from '../job-runner.js'
import type { JobRow } from '../../store/jobs.js'
import { acmeVars } from '../../ansible/var-groups.js'
import { payloadOf } from '../../store/job-guard.js'
import { readNode, readSettings } from '../../store/job-context.js'
import { acquireHetznerServer } from '../../providers/hetzner.js'
import { PUBLIC_KEY_SECRET } from '../../ssh/control-plane-key.js'

export default defineJobType({
  type: 'node_provision', scope: 'global', playbook: 'node-provision.yml', audit: 'node',
  preconditions: ['provider_configured'],
  start: [], retry: [],
  success: [{ resource: 'node', from: ['provisioning'], to: 'active' }],
  failure: [{ resource: 'node', from: ['provisioning'], to: 'unreachable', always: true }],
  async vars(ctx) {
    const { config } = ctx
    return {
      preview_domain: ctx.setting('preview_domain'), dns01_provider: ctx.setting('dns01_provider'),
      dns01_credentials: await ctx.secretSetting('dns01_credentials_json'), control_plane_domain: ctx.setting('control_plane_domain'),
      control_plane_upstream: `http://${config.listenHost.includes(':') ? `[${config.listenHost}]` : config.listenHost}:${config.listenPort}`,
      ...acmeVars(config), wp_core_url: config.wpCoreUrl, control_plane_public_key: await ctx.secrets.get(PUBLIC_KEY_SECRET),
    }
  },
  async beforePlaybook(job, ctx, deadline, addSecret) {
    return payloadOf(job).mode === 'acquire' ? acquire(job, ctx, deadline, addSecret) : null
  },
})

/** Provider acquisition (order the server, wait for it, record its address) within the job budget; an outcome only on failure. */
async function acquire(job: JobRow, ctx: RunnerContext, deadline: number, addSecret: (value: string) => void): Promise<JobOutcome | null> {
  const { services, signal, log, ansible } = ctx
  const node = await readNode(services.db, job.node_id)
  if (!node) return failure('INTERNAL_ERROR', `node ${job.node_id} does not exist`)
  const settings = await readSettings(services.db)
  const tokenRef = settings.get('hetzner_api_token')
  const token = tokenRef?.startsWith('secret:') ? await services.secrets.get(tokenRef.slice('secret:'.length)) : null
  if (!token) return failure('PROVIDER_NOT_CONFIGURED', 'hetzner_api_token is not set')
  addSecret(token)
  const publicKey = await services.secrets.get(PUBLIC_KEY_SECRET)
  if (!publicKey) return failure('INTERNAL_ERROR', 'The control-plane SSH public key is missing from the secrets store')
  const payload = payloadOf(job)
  const budget = new AbortController()
  const timer = setTimeout(() => budget.abort(new Error('job budget spent')), Math.max(1, deadline - Date.now()))
  try {
    await acquireHetznerServer({
      db: services.db, node, log, token, publicKey, timing: ansible.providerTiming, knownHostsFile: path.join(services.config.dataDir, 'known_hosts'),
      baseUrl: settings.get('hetzner_api_base_url') ?? 'https://api.hetzner.cloud/v1',
      spec: { server_type: String(payload.server_type), location: String(payload.location), image: String(payload.image) },
      signal: AbortSignal.any([signal, budget.signal]),
    })
    return null
  } catch (error) {
    if (budget.signal.aborted && !signal.aborted) return failure('JOB_TIMEOUT', 'The job timeout expired during provider acquisition')
    throw error
  } finally {
    clearTimeout(timer)
  }
}
