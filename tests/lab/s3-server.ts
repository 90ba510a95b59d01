// Entry point run as its own process: s3rver on a lab address with the instance's credentials (its CLI only knows S3RVER/S3RVER).
import S3rver from 's3rver'
import AWSAccount from 's3rver/lib/models/account.js'

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
await server.run()
