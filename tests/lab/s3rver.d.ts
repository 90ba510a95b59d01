// Type declarations for the parts of s3rver (which ships none) that s3-server.ts uses.
declare module 's3rver' {
  interface S3rverOptions {
    address?: string
    port?: number
    directory?: string
    silent?: boolean
    configureBuckets?: { name: string; configs: string[] }[]
  }
  interface MiddlewareContext {
    req: import('node:http').IncomingMessage
    status: number
    type: string
    body: unknown
  }
  namespace S3rver {
    type Middleware = (ctx: MiddlewareContext, next: () => Promise<void>) => Promise<void> | void
  }
  class S3rver {
    constructor(options: S3rverOptions)
    /** Koa's middleware stack (S3rver extends Koa); composed when the server starts listening. */
    middleware: S3rver.Middleware[]
    run(): Promise<{ address: string; port: number }>
    close(): Promise<void>
  }
  export default S3rver
}

declare module 's3rver/lib/models/account.js' {
  interface Account {
    createKeyPair(accessKeyId: string, secretAccessKey: string): void
    revokeAccessKey(accessKeyId: string): void
  }
  const AWSAccount: { DUMMY_ACCOUNT: Account }
  export default AWSAccount
}
