/**
 * The HTTP API, built apart from the process that listens (api/main.ts) so tests drive it with
 * `app.inject()`.
 *
 * The foundation every route stands on (issue 8):
 * - access.ts: OAuth2 bearer JWTs (jwt.ts), rate limits (rate-limit.ts) and the roles each
 *   route declares in `config.roles`; a route without them fails to register (route-config.ts);
 * - JSON-schema validation of params, query and body (fastify's ajv), failures answered
 *   400 RISK_ERR_REQUEST_INVALID naming the field;
 * - `GET /openapi.json` generated from the registered routes (openapi.ts);
 * - the hash-chained audit log (audit.ts), written for routes declaring `config.audit`.
 *
 * Errors are coded: `{ error: { code, message } }` (http-errors.ts).
 *
 * Example:
 *   const app = buildApp({ metrics: new Registry(), version: '0.1.0', checks: {},
 *     auth: { issuer: 'pitboss-dev', audience: 'pitboss-api', hs256Secret: secret }, audit: await openAuditLog({ path }) })
 *   app.get('/cases/:id', { config: { roles: ['aml_officer'], audit: { action: 'case.read', entity: 'case' } }, schema }, handler)
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import { Counter, Histogram, type Registry } from 'prom-client'
import { systemClock, type Clock } from '../core/clock.js'
import { ERROR_CODES, isRiskError } from '../core/errors.js'
import type { Logger } from '../core/logger.js'
import { installAccessControl } from './access.js'
import { installAuditHook, type AuditLog } from './audit.js'
import { errorBody, replyWithError, statusForErrorCode } from './http-errors.js'
import { createTokenVerifier, type TokenVerificationOptions } from './jwt.js'
import { buildOpenApiDocument } from './openapi.js'
import { DEFAULT_RATE_LIMITS, type RateLimitOptions } from './rate-limit.js'
import { installRouteRegistry, registeredRoutes } from './route-config.js'
import { registerAuditStatusRoute } from './routes/audit-status.js'
import { registerMeRoute } from './routes/me.js'
import { registerModelRoutes } from './routes/models.js'
import { registerRuleSetRoutes } from './routes/rule-sets.js'
import { registerScreeningRoutes, type ScreeningStatusDependencies } from './routes/screening.js'
import { registerWebhookRoutes, type WebhookDependencies } from './routes/webhooks.js'
import { registerCaseRoutes } from './routes/cases.js'
import { registerClusterRoutes } from './routes/clusters.js'
import { registerDecisionRoutes } from './routes/decisions.js'
import { registerPlayerRoutes } from './routes/players.js'
import { registerRegulatorRoutes } from './routes/regulator.js'
import { registerStrRoutes } from './routes/str.js'
import { registerScreeningVerdictRoutes } from './routes/screening-verdicts.js'
import { registerConsoleRoutes, type ConsoleOptions } from './console/plugin.js'
import type { CaseService } from '../cases/case-service.js'
import type { ModelService } from '../models/service.js'
import type { ReviewVerdict, ScreeningInstruction } from '../schemas/generated/types.js'
import type { ReadModel } from './read-model.js'
import type { RuleSetFiles } from './rule-set-files.js'
import type { StrSettings } from './str-settings.js'

export { API_ERROR_CODES } from './http-errors.js'

/** Officers' side. Each field is used by the routes that need it; see the route files. */
export interface OperationsDependencies {
  readonly cases: CaseService
  readonly readModel: ReadModel
  /** Produces an officer's verdict to risk.reviews.v1 (keyed by playerId); resolves once acknowledged. */
  readonly publishReview: (verdict: ReviewVerdict) => Promise<void>
  /**
   * Produces an officer's screening verdict (FALSE_MATCH / TRUE_MATCH) to risk.screening.v1, keyed
   * by playerId (api/screening-publisher.ts); resolves once acknowledged. Absent = POST
   * /players/:playerId/screening-verdicts is not registered.
   */
  readonly publishScreening?: (instruction: ScreeningInstruction) => Promise<void>
}

/** Data scientists', rules admins' and regulators' side. */
export interface GovernanceDependencies {
  readonly models: ModelService
  readonly ruleSets: RuleSetFiles
  readonly str: StrSettings
  readonly readModel: ReadModel
  readonly cases: CaseService
}

export interface ApiDependencies {
  readonly metrics: Registry
  /** Readiness of what the API depends on; each returns true when reachable. */
  readonly checks: Readonly<Record<string, () => Promise<boolean>>>
  readonly version: string
  /** Token verification; absent = no token is accepted and every protected route answers 401. */
  readonly auth?: TokenVerificationOptions
  /** Default DEFAULT_RATE_LIMITS. */
  readonly rateLimits?: RateLimitOptions
  /** Where routes declaring `config.audit` record; absent = such routes fail to register. */
  readonly audit?: AuditLog
  readonly clock?: Clock
  /** Server faults (5xx) are logged here with their cause; absent = not logged. */
  readonly logger?: Logger
  /**
   * What the officers' routes work on (api/routes/cases.ts, decisions.ts, players.ts): the case
   * store, the read model over ClickHouse, and the producer of review verdicts
   * (risk.reviews.v1). Absent = those routes are not registered.
   */
  readonly operations?: OperationsDependencies
  /**
   * What the data scientists', rules admins' and regulators' routes work on (api/routes/models.ts,
   * rule-sets.ts, str.ts, regulator.ts). Absent = those routes are not registered.
   */
  readonly governance?: GovernanceDependencies
  /** Where the sanctions and PEP lists are (GET /screening/status, api/routes/screening.ts). Absent = route not registered. */
  readonly screening?: ScreeningStatusDependencies
  /**
   * HMAC secrets and the nonce file of the inbound webhooks (api/routes/webhooks.ts; they need
   * `audit`). Absent, or a source without a secret = that webhook is not registered.
   */
  readonly webhooks?: WebhookDependencies
  /** The AML console's pages under /console/ (api/console/plugin.ts). Absent or disabled = not served. */
  readonly console?: ConsoleOptions
}

/** `body.amountMinor`, `querystring.limit`, `params.id` from an ajv error. */
function describeValidationError(error: FastifyError): { field: string; message: string } {
  const first = error.validation?.[0]
  const context = error.validationContext ?? 'request'
  if (first === undefined) return { field: context, message: error.message }
  const params = first.params as { missingProperty?: string; additionalProperty?: string }
  const pointer = [...first.instancePath.split('/').slice(1), params.missingProperty ?? params.additionalProperty].filter((part): part is string => part !== undefined && part !== '')
  const field = [context, ...pointer.map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))].join('.')
  if (first.keyword === 'required') return { field, message: `${field} is required` }
  if (first.keyword === 'additionalProperties') return { field, message: `${field} is not a known field` }
  return { field, message: `${field} ${first.message ?? 'is invalid'}` }
}

export function buildApp(dependencies: ApiDependencies): FastifyInstance {
  const clock = dependencies.clock ?? systemClock
  const app = Fastify({
    logger: false,
    // Unknown fields are refused (naming them) rather than silently dropped: a typo in an
    // officer's action must not vanish. Coercion stays for params and query strings.
    ajv: { customOptions: { removeAdditional: false } },
    // A malformed URL (bad percent-encoding) is the caller's mistake, answered like any other.
    frameworkErrors: (error, _request, reply) => { replyWithError(reply, 400, 'RISK_ERR_REQUEST_INVALID', error.message) },
  })
  const responses = new Counter({ name: 'pitboss_api_responses_total', help: 'API responses by route and status', labelNames: ['route', 'status'], registers: [dependencies.metrics] })
  const duration = new Histogram({ name: 'pitboss_api_response_seconds', help: 'API response time by route', labelNames: ['route'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [dependencies.metrics] })
  const reportTime = new Histogram({ name: 'pitboss_report_generation_seconds', help: 'regulator period reports (regulator_daily|weekly|monthly) and goAML STR exports (str_goaml), by kind', labelNames: ['kind'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [dependencies.metrics] })
  const observeReport = (kind: string, seconds: number): void => reportTime.observe({ kind }, seconds)

  // Before any route: the registry checks each route's declaration as it is added.
  installRouteRegistry(app, { auditEnabled: dependencies.audit !== undefined })
  installAccessControl(app, {
    verifier: dependencies.auth === undefined ? null : createTokenVerifier(dependencies.auth, clock),
    rateLimits: dependencies.rateLimits ?? DEFAULT_RATE_LIMITS,
    clock,
  })
  if (dependencies.audit !== undefined) installAuditHook(app, dependencies.audit)

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    responses.inc({ route, status: String(reply.statusCode) })
    duration.observe({ route }, reply.elapsedTime / 1000)
  })

  app.setNotFoundHandler(async (request, reply) => replyWithError(reply, 404, 'PITBOSS_API_NOT_FOUND', `no route ${request.method} ${request.url}`))
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    if (error.validation !== undefined) {
      const { field, message } = describeValidationError(error)
      return replyWithError(reply, 400, 'RISK_ERR_REQUEST_INVALID', message, field)
    }
    if (isRiskError(error)) {
      const status = statusForErrorCode(error.code)
      if (status < 500) return replyWithError(reply, status, error.code, error.message.replace(`${error.code}: `, ''))
      dependencies.logger?.error({ err: error, route: request.routeOptions.url, requestId: request.id }, 'api request failed')
      // The code helps the caller decide to retry; the internal message (hosts, paths) stays in the log.
      return reply.code(status).send(errorBody(error.code, ERROR_CODES[error.code].summary))
    }
    // fastify's own 4xx (malformed JSON, unsupported media type, body too large) are bad input too.
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) return replyWithError(reply, error.statusCode, 'RISK_ERR_REQUEST_INVALID', error.message)
    dependencies.logger?.error({ err: error, route: request.routeOptions.url, requestId: request.id }, 'api request failed')
    return replyWithError(reply, 500, 'PITBOSS_API_INTERNAL', 'internal error')
  })

  app.get('/health', async () => ({ status: 'ok', version: dependencies.version }))
  app.get('/ready', async (_request, reply) => {
    const results = Object.fromEntries(await Promise.all(Object.entries(dependencies.checks).map(async ([name, check]) => [name, await check().catch(() => false)] as const)))
    const ready = Object.values(results).every(Boolean)
    return reply.code(ready ? 200 : 503).send({ ready, checks: results })
  })
  app.get('/metrics', async (_request, reply) => reply.type(dependencies.metrics.contentType).send(await dependencies.metrics.metrics()))
  let openApiDocument: Record<string, unknown> | null = null
  // Built on first request: by then every route, including those added after buildApp, is registered.
  app.get('/openapi.json', async () => (openApiDocument ??= buildOpenApiDocument(registeredRoutes(app), { title: 'pitboss API', version: dependencies.version })))

  registerMeRoute(app)
  if (dependencies.audit !== undefined) registerAuditStatusRoute(app, dependencies.audit)
  if (dependencies.operations !== undefined) { registerCaseRoutes(app, dependencies.operations.cases); registerDecisionRoutes(app, dependencies.operations, clock); registerPlayerRoutes(app, dependencies.operations.readModel); registerClusterRoutes(app, dependencies.operations.readModel) }
  if (dependencies.governance !== undefined) { registerModelRoutes(app, dependencies.governance.models); registerRuleSetRoutes(app, dependencies.governance.ruleSets) }
  if (dependencies.screening !== undefined) registerScreeningRoutes(app, dependencies.screening, clock)
  if (dependencies.operations?.publishScreening !== undefined) registerScreeningVerdictRoutes(app, dependencies.operations, clock)
  if (dependencies.webhooks !== undefined) registerWebhookRoutes(app, dependencies.webhooks, { audit: dependencies.audit, clock })
  if (dependencies.governance !== undefined) { registerStrRoutes(app, dependencies.governance, { clock, observeReport }); registerRegulatorRoutes(app, dependencies.governance, { clock, observeReport, ...(dependencies.audit === undefined ? {} : { audit: dependencies.audit }) }) }
  if (dependencies.console?.enabled === true) registerConsoleRoutes(app, dependencies.console)
  return app
}
