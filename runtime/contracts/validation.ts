// Input rules (docs/architecture.md "Security rules the code enforces") as pure predicates, shared by the zod schemas, settings validation and the runner.

export const SLUG_RE = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/
/** Basic auth user names: no colon (htpasswd separator), no spaces or quotes. */
export const BASIC_AUTH_USER_RE = /^[A-Za-z0-9._@-]{1,64}$/
export const NODE_NAME_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
export const SSH_USER_RE = /^[a-z_][a-z0-9_-]{0,31}$/
export const PROVIDER_FIELD_RE = /^[a-z0-9.-]{1,64}$/
export const GIT_REF_RE = /^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}$/
const LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f]/

/** Jinja delimiters would be templated by Ansible: rejected at the API and re-checked by the runner. */
export function hasTemplateSyntax(value: string): boolean {
  return value.includes('{{') || value.includes('{%') || value.includes('{#')
}

export function hasControlCharacters(value: string): boolean {
  return CONTROL_RE.test(value)
}

export function isIpv4(value: string): boolean {
  return IPV4_RE.test(value)
}

function isIpLiteral(value: string): boolean {
  return isIpv4(value) || (value.includes(':') && /^[0-9a-fA-F:.]+$/.test(value))
}

/** Hostname rule: lowercase, ≤ 253 chars, ≥ 2 labels, no trailing dot, not an IP. */
export function isHostname(value: string): boolean {
  if (value.length > 253 || value !== value.toLowerCase() || isIpLiteral(value)) return false
  const labels = value.split('.')
  return labels.length >= 2 && labels.every((label) => LABEL_RE.test(label)) && !/^\d+$/.test(labels[labels.length - 1])
}

/** SSH target of a node: the hostname rule, a single label such as `localhost`, or an IP literal. */
export function isNodeHostname(value: string): boolean {
  return isHostname(value) || isIpLiteral(value) || LABEL_RE.test(value)
}

export function isLocalHostname(value: string): boolean {
  return value === 'localhost' || value === '127.0.0.1' || value === '::1'
}

/** Custom domains must not be localhost, under sslip.io, under the preview domain, or the control-plane domain. */
export function customDomainProblem(hostname: string, previewDomain: string | null, controlPlaneDomain: string | null): string | null {
  if (!isHostname(hostname)) return 'must be a lowercase fully qualified hostname'
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return 'must not be localhost'
  if (hostname === 'sslip.io' || hostname.endsWith('.sslip.io')) return 'must not be under sslip.io'
  if (previewDomain && (hostname === previewDomain || hostname.endsWith(`.${previewDomain}`))) return 'must not be under the preview domain'
  if (controlPlaneDomain && hostname === controlPlaneDomain) return 'must not be the control-plane domain'
  return null
}

/** http(s) URL with a host, no credentials, no whitespace or control characters, ≤ 2048 chars. */
export function isSafeHttpUrl(value: string): boolean {
  if (value.length > 2048 || /\s/.test(value) || hasControlCharacters(value)) return false
  try {
    const url = new URL(value)
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && url.username === '' && url.password === ''
  } catch {
    return false
  }
}

/** Upload deploy refs: a safe http(s) URL or s3://<bucket>/<key>, pointing at a .tar.gz artifact. */
export function isUploadRef(value: string): boolean {
  if (!value.endsWith('.tar.gz')) return false
  if (value.startsWith('s3://')) return /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[A-Za-z0-9._/+=-]+$/.test(value) && !value.includes('..')
  return isSafeHttpUrl(value)
}

/** Git refs: `<repo>#<ref>` with repo https://…, ssh://… or git@host:path (no passwords). */
export function isGitRef(value: string): boolean {
  const hash = value.lastIndexOf('#')
  if (hash <= 0 || /\s/.test(value) || hasControlCharacters(value)) return false
  const repo = value.slice(0, hash)
  const ref = value.slice(hash + 1)
  if (!GIT_REF_RE.test(ref)) return false
  if (/^git@[a-z0-9.-]+:[A-Za-z0-9._/~-]+$/.test(repo)) return true
  try {
    const url = new URL(repo)
    if (url.protocol === 'https:') return url.hostname !== '' && url.username === '' && url.password === ''
    if (url.protocol === 'ssh:') return url.hostname !== '' && url.password === ''
  } catch { /* not a URL */ }
  return false
}
