// Entry point run as its own process: s3rver on a lab address with the instance's credentials (its CLI only knows S3RVER/S3RVER).
// s3rver itself accepts any Signature V4 of a known key, so a middleware in front of its routes recomputes the signature
// (s3-sigv4.ts): a wrong secret gets 403 SignatureDoesNotMatch, an unsigned request 403 AccessDenied, like S3 with a private bucket.
import S3rver from 's3rver'
import AWSAccount from 's3rver/lib/models/account.js'
import { s3ErrorXml, verifySigV4 } from './s3-sigv4.js'

const [address, port, directory, bucket, accessKeyId, secretAccessKey] = process.argv.slice(2)
if (!secretAccessKey) throw new Error('usage: s3-server <address> <port> <directory> <bucket> <access-key-id> <secret-access-key>')

AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER')
AWSAccount.DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey)

const server = new S3rver({
  address,
  port: Number(port),
  directory,
  silent: false,
  configureBuckets: [{ name: bucket, configs: [] }],
})

const sigv4: S3rver.Middleware = async (ctx, next) => {
  const result = verifySigV4({ method: ctx.req.method ?? 'GET', url: ctx.req.url ?? '/', headers: ctx.req.headers },
    (id) => (id === accessKeyId ? secretAccessKey : undefined))
  if (result.ok === true) return next()
  const [status, code, message] = result.ok === 'unsigned'
    ? [403, 'AccessDenied', 'Anonymous access is not allowed']
    : [result.status, result.code, result.message]
  ctx.status = status
  ctx.type = 'application/xml'
  ctx.body = s3ErrorXml(code, message, (ctx.req.url ?? '/').split('?')[0])
}
// Right after s3rver's request logger (its first middleware), before its own routes and authentication.
server.middleware.splice(1, 0, sigv4)
await server.run()
