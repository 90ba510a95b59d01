// vitest global setup: after the whole default suite, fail the run if any known secret appears in any log line.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { LOG_DIR_ENV, findLeakedSecrets, countLogLines } from './log-audit.js'

export default function setup() {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pressluft-test-logs-'))
  process.env[LOG_DIR_ENV] = logDir
  return () => {
    const leaks = findLeakedSecrets(logDir)
    const lines = countLogLines(logDir)
    fs.rmSync(logDir, { recursive: true, force: true })
    if (leaks.length > 0) throw new Error(`secrets found in the test run's logs: ${JSON.stringify(leaks)}`)
    console.log(`log redaction check: ${lines} log lines scanned, no known secret found`)
  }
}
