import { describe, it, expect } from 'vitest'
import { renderContracts } from '../../runtime/contracts/generate.js'

// Every operation the API promises (the endpoint list of README.md's tour and docs/architecture.md), as "METHOD path".
const PUBLIC_OPERATIONS = [
  'POST /api/login', 'POST /api/logout',
  'GET /api/sites', 'POST /api/sites', 'GET /api/sites/{id}', 'GET /api/sites/{id}/environments',
  'POST /api/sites/{id}/environments', 'POST /api/sites/{id}/import', 'POST /api/sites/{id}/reset',
  'GET /api/environments/{id}', 'POST /api/environments/{id}/drift-check', 'POST /api/environments/{id}/deploy',
  'POST /api/environments/{id}/updates', 'POST /api/environments/{id}/restore', 'POST /api/environments/{id}/promote',
  'PATCH /api/environments/{id}/cache', 'POST /api/environments/{id}/cache/purge', 'POST /api/environments/{id}/magic-login',
  'GET /api/environments/{id}/backups', 'POST /api/environments/{id}/backups', 'GET /api/environments/{id}/domains',
  'POST /api/environments/{id}/domains', 'POST /api/environments/{id}/reset', 'DELETE /api/domains/{id}',
  'GET /api/jobs', 'GET /api/jobs/{id}', 'POST /api/jobs/{id}/cancel', 'GET /api/metrics',
  'POST /api/nodes', 'GET /api/nodes', 'GET /api/nodes/{id}',
  // issue 9: the operator's release list and rollback (the deploy seed's forced rollback)
  'GET /api/environments/{id}/releases', 'POST /api/environments/{id}/rollback',
  // issue 12: API tokens for scripts
  'POST /api/tokens', 'GET /api/tokens', 'DELETE /api/tokens/{id}',
  // issue 12: live job progress
  'GET /api/jobs/{id}/events',
  // issue 12: webhooks
  'POST /api/webhooks', 'GET /api/webhooks', 'DELETE /api/webhooks/{id}', 'GET /api/webhooks/{id}/deliveries',
  // issue 12: staging protection (basic auth per environment)
  'PUT /api/environments/{id}/basic-auth',
]
const ADMIN_OPERATIONS = ['GET /_admin/settings', 'PATCH /_admin/settings']

function operations(doc: { paths: Record<string, Record<string, unknown>> }): string[] {
  return Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`)).sort()
}

describe('the generated contracts cover every operation of the API', () => {
  const contracts = renderContracts()
  const publicDoc = JSON.parse(contracts['openapi.json'])
  const adminDoc = JSON.parse(contracts['admin-openapi.json'])

  it('contains exactly the public operations of the spec', () => {
    expect(operations(publicDoc)).toEqual([...PUBLIC_OPERATIONS].sort())
  })

  it('keeps the internal settings API in its own document', () => {
    expect(operations(adminDoc)).toEqual([...ADMIN_OPERATIONS].sort())
    expect(Object.keys(adminDoc.components.schemas)).toEqual(expect.arrayContaining(['SettingsView', 'SettingsPatch']))
  })

  it('names the resource schemas of the spec as components', () => {
    expect(Object.keys(publicDoc.components.schemas)).toEqual(expect.arrayContaining([
      'Site', 'Environment', 'Backup', 'Domain', 'JobStatusResponse', 'Node', 'Metrics', 'JobAccepted', 'ErrorResponse',
      'CreateSiteRequest', 'CreateEnvironmentRequest', 'DeployRequest', 'CreateNodeRequest', 'MagicLoginResponse',
    ]))
  })

  it('gives every operation an operationId and documents its error responses with the shared error shape', () => {
    for (const [p, ops] of Object.entries(publicDoc.paths as Record<string, Record<string, { operationId?: string; responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> }>>)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(op.operationId, `${method} ${p}`).toBeTruthy()
        for (const [status, response] of Object.entries(op.responses)) {
          if (Number(status) >= 400) expect(response.content?.['application/json']?.schema.$ref, `${method} ${p} ${status}`).toBe('#/components/schemas/ErrorResponse')
        }
      }
    }
  })
})
