/**
 * `GET /me`: the caller as the API sees them (subject, roles, token expiry). Every role may
 * call it; the console uses it to show who is logged in, and it proves a token works.
 *
 * Example: `curl -H "Authorization: Bearer $(npx tsx api/token.ts --role aml_officer --sub alice)" :8080/me`
 *   -> { "subject": "alice", "roles": ["aml_officer"], "expiresAt": "2025-01-01T13:00:00.000Z" }
 */
import type { FastifyInstance } from 'fastify'
import { RiskError } from '../../core/errors.js'
import { ALL_API_ROLES } from '../roles.js'

export function registerMeRoute(app: FastifyInstance): void {
  app.get('/me', {
    config: { roles: ALL_API_ROLES },
    schema: {
      summary: 'The caller: subject and roles from the bearer token',
      tags: ['session'],
      response: {
        200: {
          type: 'object',
          required: ['subject', 'roles', 'expiresAt'],
          properties: {
            subject: { type: 'string' },
            roles: { type: 'array', items: { type: 'string', enum: [...ALL_API_ROLES] } },
            expiresAt: { type: 'string', format: 'date-time' },
          },
        },
      },
    },
  }, async (request) => {
    // The access hook let the request through, so a principal is set; this guards a wiring mistake.
    if (request.principal === null) throw new RiskError('RISK_ERR_UNAUTHENTICATED', 'no verified caller on a protected route')
    const { subject, roles, expiresAtMs } = request.principal
    return { subject, roles, expiresAt: new Date(expiresAtMs).toISOString() }
  })
}
