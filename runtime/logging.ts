// pino logger with redaction paths (docs/architecture.md "Security rules the code enforces"), so no password, token or
// secret reaches a log line.
import pino, { type Logger, type DestinationStream } from 'pino'

export const REDACT_PATHS = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  'password', '*.password',
  'password_hash', '*.password_hash',
  'session_token', '*.session_token',
  'token', '*.token',
  'dns01_credentials_json', '*.dns01_credentials_json',
  'backup_s3_secret_access_key', '*.backup_s3_secret_access_key',
  'hetzner_api_token', '*.hetzner_api_token',
  'private_key', '*.private_key',
  'authToken', '*.authToken',
]

export type { Logger }

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'pressluft' }, redact: { paths: REDACT_PATHS, censor: '[REDACTED]' } }, destination)
}
