// Collects every log line of a test run and the secret values tests used, so teardown can prove none was logged.
import fs from 'node:fs'
import path from 'node:path'

export const LOG_DIR_ENV = 'PRESSLUFT_TEST_LOG_DIR'

function dir(): string | undefined {
  return process.env[LOG_DIR_ENV]
}

export function recordLogLine(line: string): void {
  const d = dir()
  if (d) fs.appendFileSync(path.join(d, `logs-${process.pid}.ndjson`), `${line}\n`)
}

/** Registers a secret value (password, token, key) that must never appear in any log line of the run. */
export function rememberSecret(value: string): void {
  const d = dir()
  if (d && value.length >= 8) fs.appendFileSync(path.join(d, `secrets-${process.pid}.txt`), `${JSON.stringify(value)}\n`)
}

export function findLeakedSecrets(logDir: string): { secret: string; file: string }[] {
  const files = fs.readdirSync(logDir)
  const secrets = files.filter((f) => f.startsWith('secrets-'))
    .flatMap((f) => fs.readFileSync(path.join(logDir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as string))
  const leaks: { secret: string; file: string }[] = []
  for (const f of files.filter((name) => name.startsWith('logs-'))) {
    const text = fs.readFileSync(path.join(logDir, f), 'utf8')
    for (const secret of new Set(secrets)) if (text.includes(secret)) leaks.push({ secret: `${secret.slice(0, 3)}…`, file: f })
  }
  return leaks
}

export function countLogLines(logDir: string): number {
  return fs.readdirSync(logDir).filter((f) => f.startsWith('logs-'))
    .reduce((n, f) => n + fs.readFileSync(path.join(logDir, f), 'utf8').split('\n').filter(Boolean).length, 0)
}
