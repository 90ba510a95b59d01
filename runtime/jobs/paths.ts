// Where a job's environment and releases live on the node, and the release id a job creates.
import crypto from 'node:crypto'

export function envRoot(siteId: string, slug: string): string {
  return `/var/www/sites/${siteId}/${slug}`
}

/** Release directory name = the job's created_at as YYYYMMDDHHMMSS, so retries converge on one directory. */
export function releaseStamp(createdAt: string): string {
  return createdAt.slice(0, 19).replace(/[-T:]/g, '')
}

/** The release a job creates has an id derived from the job id, so every attempt and the extra-vars agree on it. */
export function releaseIdFor(jobId: string): string {
  const hex = crypto.createHash('sha256').update(`pressluft-release:${jobId}`).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${(8 + (parseInt(hex[16], 16) & 3)).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

/** The release directory a job creates in an environment. */
export function releasePathFor(env: { site_id: string; slug: string }, jobCreatedAt: string): string {
  return `${envRoot(env.site_id, env.slug)}/releases/${releaseStamp(jobCreatedAt)}`
}
