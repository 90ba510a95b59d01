// Test helper for tests/e2e: the run's control plane (on the shared data dir) and its provisioned node, plus common steps.
import { inject } from 'vitest'
import { labStatus, type LabNode, type LabStatus } from '../lab/lab.js'
import { createTestControlPlane, type TestControlPlane } from './control-plane.js'
import { e2eControlPlaneEnv } from './e2e-run.js'
import { waitForJob } from './jobs.js'
import { rememberSecret } from './log-audit.js'

export interface E2e {
  cp: TestControlPlane
  lab: LabStatus
  instance: string
  /** node1 of the lab: provisioned once for the whole run and registered as `nodeId`. */
  node: LabNode
  nodeId: string
  provisionJobId: string
  close(): Promise<void>
}

/**
 * Opens the run's control plane (scheduler running, admin logged in). One file at a time uses it
 * (the e2e config runs files one after another), so its scheduler never competes with another one.
 */
export async function openE2e(env: Record<string, string> = {}): Promise<E2e> {
  const run = inject('e2eRun')
  const lab = labStatus({ instance: run.instance })
  const cp = await createTestControlPlane({ ...e2eControlPlaneEnv(lab), ...env }, { startScheduler: true }, { dataDir: run.dataDir })
  await cp.login()
  return {
    cp, lab, instance: run.instance, node: lab.nodes[0], nodeId: run.nodeId, provisionJobId: run.provisionJobId,
    close: () => cp.close(),
  }
}

export interface CreatedSite { siteId: string; envId: string; previewUrl: string; previewHost: string; jobId: string }

/** Creates a site on the run's node through the API and waits until site_create succeeded. */
export async function createSite(e2e: E2e, site: { slug: string; name: string }): Promise<CreatedSite> {
  const res = await e2e.cp.request('POST', '/api/sites', { ...site, node_id: e2e.nodeId })
  if (res.status !== 202) throw new Error(`POST /api/sites answered ${res.status}: ${await res.text()}`)
  const { job_id: jobId } = await res.json() as { job_id: string }
  const job = await waitForJob(e2e.cp, jobId)
  if (job.status !== 'succeeded') throw new Error(`site_create for ${site.slug} ${job.status}: ${job.error_code} ${job.error_message}`)
  const sites = await (await e2e.cp.request('GET', '/api/sites?limit=200')).json() as { items: { id: string; slug: string }[] }
  const found = sites.items.find((s) => s.slug === site.slug)
  if (!found) throw new Error(`site ${site.slug} not listed after site_create`)
  const envs = await (await e2e.cp.request('GET', `/api/sites/${found.id}/environments`)).json() as { items: { id: string; environment_type: string; preview_url: string }[] }
  const production = envs.items.find((e) => e.environment_type === 'production')!
  return { siteId: found.id, envId: production.id, previewUrl: production.preview_url, previewHost: new URL(production.preview_url).hostname, jobId }
}

/** Points the backup storage settings at the lab's S3 server (bucket and key pair of this lab instance). */
export async function configureLabS3(e2e: E2e, overrides: Record<string, string> = {}): Promise<void> {
  const { s3 } = e2e.lab
  rememberSecret(s3.secret_access_key)
  const res = await e2e.cp.request('PATCH', '/_admin/settings', {
    backup_s3_endpoint: s3.endpoint, backup_s3_region: s3.region, backup_s3_bucket: s3.bucket,
    backup_s3_access_key_id: s3.access_key_id, backup_s3_secret_access_key: s3.secret_access_key, ...overrides,
  })
  if (res.status !== 200) throw new Error(`PATCH /_admin/settings answered ${res.status}: ${await res.text()}`)
}
