// Compile-time checks of defineFunction (runtime/http/define-function.ts): a handler may return only the statuses and
// bodies its route declares. Type-checked, never run: tests/unit/typed-edge.test.ts runs tsc on this file and on a copy
// without the @ts-expect-error lines, which must fail exactly there.
import { createRoute, z } from '@hono/zod-openapi'
import { defineFunction } from '../../runtime/http/define-function.js'

const route = createRoute({
  method: 'post', path: '/api/things', operationId: 'typecheckThing',
  responses: {
    202: { description: 'accepted', content: { 'application/json': { schema: z.object({ job_id: z.string() }) } } },
    404: { description: 'missing', content: { 'application/json': { schema: z.object({ code: z.string(), message: z.string() }) } } },
  },
})

export const declared = defineFunction({
  route,
  handler: (c) => c.json({ job_id: 'j1' }, 202),
})

export const declaredError = defineFunction({
  route,
  handler: (c) => c.json({ code: 'not_found', message: 'no such thing' }, 404),
})

export const undeclaredStatus = defineFunction({
  route,
  // @ts-expect-error 500 is not a response of the route
  handler: (c) => c.json({ totally: 'wrong' }, 500),
})

export const undeclaredBody = defineFunction({
  route,
  // @ts-expect-error the 202 body must be { job_id: string }
  handler: (c) => c.json({ jobId: 'j1' }, 202),
})

export const bodyOfAnotherStatus = defineFunction({
  route,
  // @ts-expect-error the 404 body is the error shape, not the 202 one
  handler: (c) => c.json({ job_id: 'j1' }, 404),
})
