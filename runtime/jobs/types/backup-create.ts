// backup_create: dumps an environment's database and/or files to the S3 backup storage; the backup row was
// created (pending) at acceptance, by a request or as the pre-operation backup of another job.
import { z } from 'zod'
import { defineJobType } from '../job-type.js'
import { environmentVars, jobEnvironment, storageVars } from '../../ansible/var-groups.js'
import { str } from '../../ansible/vars-context.js'
import { completeBackup } from '../../store/job-type-effects.js'

export default defineJobType({
  type: 'backup_create', scope: 'site', playbook: 'backup-create.yml', audit: 'backup',
  preconditions: ['node_active', 'storage_configured'],
  start: [{ resource: 'backup', from: ['pending'], to: 'running' }],
  retry: [{ resource: 'backup', from: ['running'], to: 'pending' }],
  success: [],
  failure: [{ resource: 'backup', from: ['pending', 'running'], to: 'failed', always: true }],
  result: z.object({ checksum: z.string().regex(/^sha256:[0-9a-f]{64}$/), size_bytes: z.number().int().nonnegative() }),
  async vars(ctx) {
    return { ...await environmentVars(ctx, await jobEnvironment(ctx)), ...await storageVars(ctx) }
  },
  async onSuccess(ctx) {
    const id = str(ctx.payload.backup_id)
    return id && ctx.result ? completeBackup(id, ctx.result.checksum, ctx.result.size_bytes, ctx.at, ctx.guard) : []
  },
})
