/**
 * `GET /audit/status`: verifies the live audit log's chain and reports its length and head
 * hash. Compliance keeps the head hash elsewhere (a ticket, an email to the regulator) so that
 * cutting entries from the end, which leaves a valid shorter chain, is caught later by
 * `npx tsx api/audit-verify.ts <file> --expect-head <hash>`.
 *
 * Example: -> { "ok": true, "entries": 1042, "headHash": "9f…" } or
 *             { "ok": false, "entries": 16, "headHash": "…", "brokenLine": 17, "reason": "…" }
 */
import type { FastifyInstance } from 'fastify'
import type { AuditLog } from '../audit.js'
import { verifyAuditFile } from '../audit-verify.js'
import { API_ROLES } from '../roles.js'

export function registerAuditStatusRoute(app: FastifyInstance, log: AuditLog): void {
  app.get('/audit/status', {
    config: { roles: [API_ROLES.complianceOfficer, API_ROLES.regulatorRead] },
    schema: {
      summary: 'Verify the audit log chain and report its head hash',
      tags: ['audit'],
      response: {
        200: {
          type: 'object',
          required: ['ok', 'entries', 'headHash'],
          properties: {
            ok: { type: 'boolean' },
            entries: { type: 'integer' },
            headHash: { type: 'string' },
            brokenLine: { type: 'integer' },
            reason: { type: 'string' },
          },
        },
      },
    },
  }, async () => verifyAuditFile(log.path, { endByte: log.syncedBytes }))
}
