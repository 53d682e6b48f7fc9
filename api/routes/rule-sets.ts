/**
 * Rule sets for the rules admins (issue 8, item 2): list, read, propose, activate, diff.
 * Storage and validation are in api/rule-set-files.ts; the engine picks the active file up by
 * itself (docs/rule-sets.md), so activating here changes what decides within seconds.
 *
 * | route | roles | audit |
 * | --- | --- | --- |
 * | GET /rule-sets, GET /rule-sets/:version, GET /rule-sets/diff?from&to | rules_admin, compliance_officer, regulator_read | — |
 * | POST /rule-sets (propose) | rules_admin | rule_set.propose, after = the stored version |
 * | POST /rule-sets/:version/activate | rules_admin, compliance_officer | rule_set.activate, before/after = the active file |
 *
 * Example:
 *   POST /rule-sets { "version": "2026-12-01.1", "detectors": { … } }   -> 201 { created: true, summary: { contentHash: "sha256:…", … } }
 *   POST /rule-sets/2026-12-01.1/activate                               -> 200 { changed: true, before: { version: "2026-11-26.3", … }, after: { … } }
 *   GET /rule-sets/diff?from=2026-11-26.3&to=2026-12-01.1               -> { detectors: [{ detectorId, change, fields: [{ field, from, to }] }], … }
 */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { RiskError } from '../../core/errors.js'
import { recordAuditChange } from '../audit.js'
import { API_ROLES } from '../roles.js'
import { RULE_SET_VERSION_PATTERN, type RuleSetFiles } from '../rule-set-files.js'

const READERS = [API_ROLES.rulesAdmin, API_ROLES.complianceOfficer, API_ROLES.regulatorRead]

const versionSchema = { type: 'string', pattern: RULE_SET_VERSION_PATTERN, examples: ['2026-11-26.3'] } as const
const nullableString = { type: ['string', 'null'] } as const

const summarySchema = {
  type: 'object',
  required: ['version', 'contentHash', 'author', 'createdAtMs', 'previousVersion'],
  properties: {
    version: { type: 'string' },
    contentHash: { type: 'string' },
    author: nullableString,
    createdAtMs: { type: ['integer', 'null'] },
    previousVersion: nullableString,
    description: nullableString,
  },
} as const

const activeSchema = {
  type: ['object', 'null'],
  required: ['version', 'contentHash', 'stored'],
  properties: { version: { type: 'string' }, contentHash: { type: 'string' }, stored: { type: 'boolean' } },
} as const

const anyValue = {} as const
const fieldChangeSchema = { type: 'object', required: ['field', 'from', 'to'], properties: { field: { type: 'string' }, from: anyValue, to: anyValue } } as const
const detectorChangeSchema = {
  type: 'object',
  required: ['detectorId', 'change', 'fields'],
  properties: { detectorId: { type: 'string' }, change: { type: 'string', enum: ['added', 'removed', 'changed'] }, fields: { type: 'array', items: fieldChangeSchema } },
} as const

/** The stored document is a rule set (docs/rule-sets.md); its own parser checks it, so the schema here stays open. */
const documentSchema = { type: 'object', additionalProperties: true } as const

function caller(request: FastifyRequest): string {
  // The access hook let the request through, so a principal is set; this guards a wiring mistake.
  if (request.principal === null) throw new RiskError('RISK_ERR_UNAUTHENTICATED', 'no verified caller on a protected route')
  return request.principal.subject
}

export function registerRuleSetRoutes(app: FastifyInstance, ruleSets: RuleSetFiles): void {
  app.get('/rule-sets', {
    config: { roles: READERS },
    schema: {
      summary: 'The active rule set and every stored version', tags: ['rule-sets'],
      response: { 200: { type: 'object', required: ['active', 'versions'], properties: { active: activeSchema, versions: { type: 'array', items: summarySchema } } } },
    },
  }, async () => ruleSets.list())

  app.get('/rule-sets/diff', {
    config: { roles: READERS },
    schema: {
      summary: 'What changed between two stored versions: per detector, per override and in the decision policy', tags: ['rule-sets'],
      querystring: { type: 'object', required: ['from', 'to'], additionalProperties: false, properties: { from: versionSchema, to: versionSchema } },
      response: {
        200: {
          type: 'object',
          required: ['from', 'to', 'identical', 'detectors', 'overrides', 'decision'],
          properties: {
            from: summarySchema,
            to: summarySchema,
            identical: { type: 'boolean' },
            detectors: { type: 'array', items: detectorChangeSchema },
            overrides: {
              type: 'array',
              items: {
                type: 'object',
                required: ['match', 'occurrence', 'change', 'detectors', 'decision'],
                properties: {
                  match: { type: 'object', properties: { jurisdiction: { type: 'string' }, tier: { type: 'string' } } },
                  occurrence: { type: 'integer' },
                  change: { type: 'string', enum: ['added', 'removed', 'changed'] },
                  detectors: { type: 'array', items: detectorChangeSchema },
                  decision: { type: 'array', items: fieldChangeSchema },
                },
              },
            },
            decision: { type: 'array', items: fieldChangeSchema },
          },
        },
      },
    },
  }, async (request) => {
    const { from, to } = request.query as { from: string; to: string }
    return ruleSets.diff(from, to)
  })

  app.get('/rule-sets/:version', {
    config: { roles: READERS },
    schema: {
      summary: 'One stored rule-set version, as stored', tags: ['rule-sets'],
      params: { type: 'object', required: ['version'], properties: { version: versionSchema } },
      response: { 200: documentSchema },
    },
  }, async (request) => ruleSets.read((request.params as { version: string }).version))

  app.post('/rule-sets', {
    config: { roles: [API_ROLES.rulesAdmin], audit: { action: 'rule_set.propose', entity: 'rule_set' } },
    schema: {
      summary: 'Propose a new rule-set version (validated against the registered detectors; never overwrites a version)', tags: ['rule-sets'],
      description: 'The body is a rule-set document (docs/rule-sets.md). `contentHash` is computed and stored; `author`, `createdAtMs` and `previousVersion` default to the caller, now and the active version. 201 when stored, 200 when the same version with the same content already was, 409 when the version exists with other content, 422 when the document is invalid.',
      body: {
        type: 'object',
        required: ['version', 'detectors'],
        additionalProperties: true,
        properties: { version: { type: 'string' }, detectors: { type: 'object' } },
        examples: [{ version: '2026-12-01.1', detectors: { withdrawal_velocity: { enabled: true, severity: 'medium', action: 'hold_for_review', params: { maxCount: 3, windowMs: 86_400_000 } } } }],
      },
      response: {
        200: { type: 'object', required: ['created', 'summary'], properties: { created: { type: 'boolean' }, summary: summarySchema } },
        201: { type: 'object', required: ['created', 'summary'], properties: { created: { type: 'boolean' }, summary: summarySchema } },
      },
    },
  }, async (request, reply) => {
    const result = await ruleSets.propose(request.body, caller(request))
    recordAuditChange(request, { entityId: result.summary.version, after: result.created ? result.document : undefined, detail: { created: result.created, contentHash: result.summary.contentHash } })
    return reply.code(result.created ? 201 : 200).send({ created: result.created, summary: result.summary })
  })

  app.post('/rule-sets/:version/activate', {
    config: { roles: [API_ROLES.rulesAdmin, API_ROLES.complianceOfficer], audit: { action: 'rule_set.activate', entity: 'rule_set', idParam: 'version' } },
    schema: {
      summary: 'Make a stored version the one the engines run (atomic write of the active file)', tags: ['rule-sets'],
      params: { type: 'object', required: ['version'], properties: { version: versionSchema } },
      response: { 200: { type: 'object', required: ['changed', 'before', 'after'], properties: { changed: { type: 'boolean' }, before: activeSchema, after: activeSchema } } },
    },
  }, async (request) => {
    const result = await ruleSets.activate((request.params as { version: string }).version, caller(request))
    recordAuditChange(request, { before: result.before, after: result.after, detail: { changed: result.changed, activePath: ruleSets.activePath } })
    return result
  })
}
