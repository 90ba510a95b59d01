// Builds vars.json (ansible/README.md "Extra-vars"): the job payload, the job and node vars every job gets, then the
// vars of the job's type module (runtime/jobs/types/); secrets are decrypted here and listed for redaction.
import type { JobRow } from '../store/jobs.js'
import type { Executor } from '../store/db.js'
import type { Config } from '../config.js'
import type { SecretStore } from '../secrets/secret-store.js'
import type { JobTypeModule } from '../jobs/job-type.js'
import { hasTemplateSyntax } from '../contracts/validation.js'
import { payloadOf } from '../store/job-guard.js'
import { readNode, readSettings, type NodeContext } from '../store/job-context.js'
import { VarsError, type ExtraVars, type Scalar, type VarsContext } from './vars-context.js'

export { VarsError }
export type { ExtraVars, Scalar, VarsContext }

export interface BuiltVars {
  vars: ExtraVars
  /** Every secret value of the attempt, for redaction of logged output and error_message. */
  secrets: string[]
  /** What the type's builder kept for its success effects. */
  carry: Record<string, unknown>
  node: NodeContext
}

export interface Build {
  services: { db: Executor; config: Config; secrets: SecretStore }
  job: JobRow
  type: JobTypeModule
  resultPath: string
}

export async function buildExtraVars({ services, job, type, resultPath }: Build): Promise<BuiltVars> {
  const { db, config, secrets: store } = services
  const payload = payloadOf(job)
  const secrets: string[] = []
  const secret = async (name: string, generate?: () => string): Promise<string | null> => {
    let value = await store.get(name)
    if (value === null && generate) {
      value = generate()
      await store.set(name, value)
    }
    if (value !== null) secrets.push(value)
    return value
  }
  const settings = await readSettings(db)
  const setting = (key: string): string | null => settings.get(key) ?? null
  const secretSetting = async (key: string): Promise<string | null> => {
    const ref = setting(key)
    return ref?.startsWith('secret:') ? secret(ref.slice('secret:'.length)) : null
  }

  const node = await readNode(db, job.node_id)
  if (!node) throw new VarsError(`node ${job.node_id} of job ${job.id} does not exist`)
  const vars: Record<string, unknown> = { ...payload }
  Object.assign(vars, {
    job_id: job.id, job_type: job.job_type, node_id: node.id, node_hostname: node.hostname, node_public_ip: node.public_ip,
    node_ssh_user: node.ssh_user, node_is_local: node.is_local === 1, pressluft_result_path: resultPath,
  })
  const ctx: VarsContext = { db, config, secrets: store, job, payload, node, secret, setting, secretSetting, carry: {} }
  Object.assign(vars, await type.vars(ctx))

  const out: ExtraVars = {}
  for (const [key, value] of Object.entries(vars)) {
    const flat = flatten(value)
    out[key] = flat
    const values = Array.isArray(flat) ? flat : [flat]
    if (values.some((v) => typeof v === 'string' && hasTemplateSyntax(v))) throw new VarsError(`extra-var ${key} contains {{, {% or {#, which Ansible would template`)
  }
  return { vars: out, secrets, carry: ctx.carry, node }
}

// Unset values travel as '' — the playbooks test `x | length > 0` / `x != ''`, and Jinja treats JSON null as None.
function flatten(value: unknown): Scalar | Scalar[] {
  if (value === null || value === undefined) return ''
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value
  if (Array.isArray(value) && value.every((v) => v === null || ['string', 'number', 'boolean'].includes(typeof v))) return value as Scalar[]
  return JSON.stringify(value)
}
