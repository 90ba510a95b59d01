import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { chromium, type Browser } from 'playwright-core'
import { createTestControlPlane, type TestControlPlane } from '../support/control-plane.js'
import { listen } from '../support/http-server.js'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

describe('GET /docs in a real browser', () => {
  let cp: TestControlPlane
  let server: { url: string; close(): Promise<void> }
  let browser: Browser

  beforeAll(async () => {
    cp = await createTestControlPlane()
    server = await listen(cp.app.fetch)
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true, // playwright gives each launch a fresh empty profile
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    })
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await cp?.close()
  })

  it('renders every operation of /api/openapi.json using only assets served by the control plane', async () => {
    const doc = await (await cp.request('GET', '/api/openapi.json')).json()
    const expected = Object.entries(doc.paths as Record<string, Record<string, unknown>>)
      .flatMap(([p, ops]) => Object.keys(ops).map((method) => `${method.toUpperCase()} ${p}`))
    expect(expected.length).toBeGreaterThan(0)

    const page = await browser.newPage()
    const foreign: string[] = []
    page.on('request', (req) => { if (!req.url().startsWith(server.url) && !req.url().startsWith('data:')) foreign.push(req.url()) })
    const response = await page.goto(`${server.url}/docs`)
    expect(response?.status()).toBe(200)
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'")
    await page.waitForSelector('.opblock-summary', { timeout: 30_000 })

    const rendered = await page.$$eval('.opblock-summary', (nodes) => nodes.map((n) => {
      const method = n.querySelector('.opblock-summary-method')?.textContent?.trim() ?? ''
      const p = n.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? n.querySelector('.opblock-summary-path')?.textContent?.trim() ?? ''
      return `${method} ${p.replace(/\u200b/g, '')}`
    }))
    for (const op of expected) expect(rendered, `${op} is not on the rendered page`).toContain(op)
    expect(foreign).toEqual([])
  })
})
