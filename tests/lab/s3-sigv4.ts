// AWS Signature Version 4 check for the lab's S3 server (s3rver accepts any V4 signature of a known key).
// Recomputes the signature of header-signed requests (Authorization: AWS4-HMAC-SHA256 …) and of presigned
// URLs (X-Amz-Algorithm=AWS4-HMAC-SHA256 in the query) from the request as received, with the secret of
// the access key. The payload hash is taken as the client declared it (x-amz-content-sha256: a hex
// SHA-256, UNSIGNED-PAYLOAD, or STREAMING-AWS4-HMAC-SHA256-PAYLOAD whose seed signature is what is checked
// here); the body itself is not re-hashed, so this proves who signed, not that the body arrived intact.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

export interface SigV4Request {
  method: string
  /** The request target exactly as received: path and raw query string. */
  url: string
  headers: IncomingHttpHeaders
}

export type SigV4Result =
  | { ok: true; accessKeyId: string }
  | { ok: false; status: number; code: string; message: string }
  | { ok: 'unsigned' }

const MAX_SKEW_MS = 15 * 60_000

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

function decode(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

function hmac(key: Buffer | string, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest()
}

/** Query parameters in raw order; '+' is a literal plus in S3 signing (clients encode spaces as %20). */
function parseQuery(raw: string): [string, string][] {
  if (raw === '') return []
  return raw.split('&').filter((part) => part !== '').map((part) => {
    const eq = part.indexOf('=')
    return eq < 0 ? [decode(part), ''] : [decode(part.slice(0, eq)), decode(part.slice(eq + 1))]
  })
}

function canonicalQuery(params: [string, string][]): string {
  return params
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
}

/** S3 does not normalise paths: each segment is decoded once and encoded again strictly. */
function canonicalPath(rawPath: string): string {
  return rawPath.split('/').map((segment) => rfc3986(decode(segment))).join('/') || '/'
}

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name]
  const joined = Array.isArray(value) ? value.join(',') : value ?? ''
  return joined.trim().replace(/\s+/g, ' ')
}

function parseAmzDate(value: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN
}

function deny(code: string, message: string, status = 403): SigV4Result {
  return { ok: false, status, code, message }
}

/** Checks one request; `secretFor` returns the secret of an access key id, or undefined for an unknown key. */
export function verifySigV4(req: SigV4Request, secretFor: (accessKeyId: string) => string | undefined, now = Date.now()): SigV4Result {
  const q = req.url.indexOf('?')
  const rawPath = q < 0 ? req.url : req.url.slice(0, q)
  const params = parseQuery(q < 0 ? '' : req.url.slice(q + 1))
  const param = (name: string) => params.find(([k]) => k === name)?.[1]
  const authorization = headerValue(req.headers, 'authorization')

  let credential: string, signedHeaders: string, signature: string, amzDate: string, payloadHash: string
  let queryForSigning = params
  if (authorization.startsWith('AWS4-HMAC-SHA256 ')) {
    const fields = new Map(authorization.slice('AWS4-HMAC-SHA256 '.length).split(',').map((f) => {
      const eq = f.indexOf('=')
      return [f.slice(0, eq).trim(), f.slice(eq + 1).trim()] as const
    }))
    credential = fields.get('Credential') ?? ''
    signedHeaders = fields.get('SignedHeaders') ?? ''
    signature = fields.get('Signature') ?? ''
    amzDate = headerValue(req.headers, 'x-amz-date')
    payloadHash = headerValue(req.headers, 'x-amz-content-sha256')
    if (!payloadHash) return deny('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256', 400)
  } else if (param('X-Amz-Algorithm') !== undefined) {
    if (param('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return deny('AuthorizationQueryParametersError', 'X-Amz-Algorithm must be AWS4-HMAC-SHA256', 400)
    credential = param('X-Amz-Credential') ?? ''
    signedHeaders = param('X-Amz-SignedHeaders') ?? ''
    signature = param('X-Amz-Signature') ?? ''
    amzDate = param('X-Amz-Date') ?? ''
    payloadHash = param('X-Amz-Content-Sha256') ?? headerValue(req.headers, 'x-amz-content-sha256') ?? ''
    if (!payloadHash) payloadHash = 'UNSIGNED-PAYLOAD'
    queryForSigning = params.filter(([k]) => k !== 'X-Amz-Signature')
    const expires = Number(param('X-Amz-Expires') ?? '')
    const signedAt = parseAmzDate(amzDate)
    if (!Number.isFinite(expires) || expires < 1 || expires > 604800) return deny('AuthorizationQueryParametersError', 'X-Amz-Expires must be between 1 and 604800 seconds', 400)
    if (now > signedAt + expires * 1000) return deny('AccessDenied', 'Request has expired')
  } else if (authorization !== '' || param('Signature') !== undefined) {
    return deny('AccessDenied', 'Only AWS Signature Version 4 is accepted by this server')
  } else {
    return { ok: 'unsigned' }
  }

  const [accessKeyId, date, region, service, terminal] = credential.split('/')
  if (!accessKeyId || !date || !region || !service || terminal !== 'aws4_request' || !signedHeaders || !/^[0-9a-f]{64}$/.test(signature)) {
    return deny('AuthorizationHeaderMalformed', 'The authorization header or query is malformed', 400)
  }
  const secret = secretFor(accessKeyId)
  if (secret === undefined) return deny('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.')
  const signedAt = parseAmzDate(amzDate)
  if (Number.isNaN(signedAt) || !amzDate.startsWith(date)) return deny('AccessDenied', 'X-Amz-Date is missing or does not match the credential scope')
  if (authorization && Math.abs(now - signedAt) > MAX_SKEW_MS) return deny('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.')

  const headerNames = signedHeaders.split(';')
  if (!headerNames.includes('host')) return deny('AccessDenied', 'The host header must be signed')
  const canonicalRequest = [
    req.method.toUpperCase(),
    canonicalPath(rawPath),
    canonicalQuery(queryForSigning),
    headerNames.map((name) => `${name}:${headerValue(req.headers, name)}\n`).join(''),
    signedHeaders,
    payloadHash,
  ].join('\n')
  const scope = `${date}/${region}/${service}/aws4_request`
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n')
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request')
  const expected = hmac(key, stringToSign)
  const given = Buffer.from(signature, 'hex')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return deny('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.')
  }
  return { ok: true, accessKeyId }
}

export function s3ErrorXml(code: string, message: string, resource: string): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${esc(code)}</Code><Message>${esc(message)}</Message><Resource>${esc(resource)}</Resource><RequestId>0</RequestId></Error>`
}
