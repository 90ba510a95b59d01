import { describe, it, expect } from 'vitest'
import { loadConfig, ConfigError } from '../../runtime/config.js'

describe('configuration from the environment', () => {
  it('defaults to 127.0.0.1:8080 and an embedded libSQL file under ./data', () => {
    const config = loadConfig({})
    expect(config.listenHost).toBe('127.0.0.1')
    expect(config.listenPort).toBe(8080)
    expect(config.dbUrl).toMatch(/^file:.*\/data\/pressluft\.db$/)
    expect(config.secretsDir).toMatch(/\/data\/secrets$/)
    expect(config.maxConcurrentJobs).toBe(4)
    expect(config.jobTimeoutSeconds).toBe(1800)
  })

  it('waits 1, 5 and 15 minutes between retries unless PRESSLUFT_RETRY_BACKOFF_SECONDS says otherwise', () => {
    expect(loadConfig({}).backoffSeconds).toEqual([60, 300, 900])
    expect(loadConfig({ PRESSLUFT_RETRY_BACKOFF_SECONDS: '2,4,8' }).backoffSeconds).toEqual([2, 4, 8])
    expect(loadConfig({ PRESSLUFT_RETRY_BACKOFF_SECONDS: ' 5 ' }).backoffSeconds).toEqual([5])
  })

  it('accepts a libSQL server URL unchanged', () => {
    expect(loadConfig({ PRESSLUFT_DB_URL: 'libsql://db.example.test' }).dbUrl).toBe('libsql://db.example.test')
    expect(loadConfig({ PRESSLUFT_DB_URL: 'http://127.0.0.1:8081' }).dbUrl).toBe('http://127.0.0.1:8081')
  })

  it.each([
    ['PRESSLUFT_LISTEN_ADDR', 'nonsense'],
    ['PRESSLUFT_LISTEN_ADDR', '127.0.0.1:99999'],
    ['PRESSLUFT_MAX_CONCURRENT_JOBS', '0'],
    ['PRESSLUFT_MAX_CONCURRENT_JOBS', 'four'],
    ['PRESSLUFT_JOB_TIMEOUT_SECONDS', '-5'],
    ['PRESSLUFT_DB_URL', 'postgres://x'],
    ['PRESSLUFT_ADMIN_PASSWORD', 'short'],
    ['PRESSLUFT_ADMIN_EMAIL', 'not-an-email'],
    ['PRESSLUFT_LOG_LEVEL', 'loud'],
    ['PRESSLUFT_ACME_DIRECTORY_URL', 'ftp://acme'],
    ['PRESSLUFT_RETRY_BACKOFF_SECONDS', '2,,8'],
    ['PRESSLUFT_RETRY_BACKOFF_SECONDS', '0'],
    ['PRESSLUFT_RETRY_BACKOFF_SECONDS', '1.5'],
    ['PRESSLUFT_RETRY_BACKOFF_SECONDS', '86401'],
    ['PRESSLUFT_RETRY_BACKOFF_SECONDS', '1,2,3,4,5,6,7,8,9,10,11'],
  ])('rejects %s=%s with a message naming the variable', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError)
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`^${variable}: `))
  })
})
