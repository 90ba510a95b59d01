// Environment ids with a unique uuid8, and the preview URL formula.
import crypto from 'node:crypto'
import type { Executor } from '../store/db.js'
import { uuid8Taken } from '../store/environments.js'

export function uuid8Of(environmentId: string): string {
  return environmentId.slice(0, 8)
}

/** A fresh environment id whose uuid8 no other environment uses (redrawn on collision). */
export async function allocateEnvironmentId(ex: Executor): Promise<string> {
  for (;;) {
    const id = crypto.randomUUID()
    if (!(await uuid8Taken(ex, uuid8Of(id)))) return id
  }
}

/** `https://<uuid8>.<preview_domain>` when a preview domain is set, else `http://<uuid8>.<ip dashed>.sslip.io`. */
export function previewUrl(environmentId: string, nodePublicIp: string, previewDomain: string | null): string {
  const uuid8 = uuid8Of(environmentId)
  return previewDomain ? `https://${uuid8}.${previewDomain}` : `http://${uuid8}.${nodePublicIp.replaceAll('.', '-')}.sslip.io`
}
