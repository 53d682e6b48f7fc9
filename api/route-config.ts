/**
 * What every route declares, checked when it is registered (issue 8): the roles that may call
 * it, and optionally what it writes to the audit log. A route outside `PUBLIC_ROUTES` without
 * `config.roles` makes registration throw, so nothing becomes public by omission.
 *
 * Example:
 *   app.get('/cases/:id', {
 *     config: { roles: ['aml_officer', 'compliance_officer'], audit: { action: 'case.read', entity: 'case' } },
 *     schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } },
 *   }, handler)
 *
 * The registry built here also feeds `GET /openapi.json` and the roles test, so a new route is
 * documented and tested by being registered.
 */
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify'
import { RiskError } from '../core/errors.js'
import type { Principal } from './jwt.js'
import { isApiRole, type ApiRole } from './roles.js'

/** What the audit hook records for a route after its handler succeeds. */
export interface RouteAuditDeclaration {
  /** What was done, as `entity.verb`: 'case.read', 'case.resolve', 'rule_set.activate'. */
  readonly action: string
  /** The kind of entity acted on: 'case', 'player', 'rule_set'. */
  readonly entity: string
  /** The route parameter holding the entity id; default `id` when the URL has `:id`, else none. */
  readonly idParam?: string
}

/** Set by a handler (`recordAuditChange`) so the audit entry holds the state before and after. */
export interface AuditChange {
  readonly before?: unknown
  readonly after?: unknown
  /** For a route whose id is not in its URL (a create, a search). */
  readonly entityId?: string
  readonly detail?: unknown
}

declare module 'fastify' {
  interface FastifyContextConfig {
    // Keeps the interface from being a "weak type" (all-optional), which would make TypeScript
    // reject other apps' route configs (infra/registry's validationErrorCode) sharing no key with it.
    [key: string]: unknown
    /** Roles that may call the route; required on every route outside PUBLIC_ROUTES. */
    roles?: readonly ApiRole[]
    /** Record each successful call in the audit log. */
    audit?: RouteAuditDeclaration
  }
  interface FastifyRequest {
    /** The verified caller; null for a request without a valid token (public routes only get that far). */
    principal: Principal | null
    auditChange: AuditChange | null
  }
}

/**
 * Routes without a bearer token: probes, scraping and the API description; and, as the
 * exceptions, the inbound webhooks, whose callers (a KYC provider, a regulator) hold no token and
 * which authenticate each request by HMAC signature, timestamp and nonce themselves
 * (api/routes/webhooks.ts), and the AML console's static assets (api/console/plugin.ts): a
 * browser cannot send a bearer token with a page load, and they hold no data (the console
 * fetches everything from the protected routes with the officer's token). Nothing else.
 */
export const PUBLIC_ROUTES: readonly string[] = Object.freeze([
  'GET /health', 'GET /ready', 'GET /metrics', 'GET /openapi.json', 'POST /webhooks/kyc', 'POST /webhooks/regulator',
  'GET /console', 'GET /console/', 'GET /console/console.js', 'GET /console/console.css',
])

export interface RegisteredRoute {
  readonly method: string
  readonly url: string
  /** 'public' for PUBLIC_ROUTES; otherwise the roles that may call it (never empty). */
  readonly access: 'public' | readonly ApiRole[]
  readonly audit: RouteAuditDeclaration | null
  readonly schema: DocumentedSchema | null
}

/** A route schema with the OpenAPI-only keys @fastify/swagger also reads (ajv ignores them). */
export type DocumentedSchema = FastifySchema & { readonly summary?: string; readonly description?: string; readonly tags?: readonly string[] }

export function isPublicRoute(method: string, url: string): boolean {
  // fastify adds a HEAD twin to every GET route; it shares the GET's declaration.
  const asGet = method === 'HEAD' ? 'GET' : method
  return PUBLIC_ROUTES.includes(`${asGet} ${url}`)
}

function registrationError(method: string, url: string, why: string): RiskError {
  return new RiskError('RISK_ERR_CONFIG_INVALID', `route ${method} ${url} ${why}`, { method, url })
}

function urlParams(url: string): string[] {
  return [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((match) => match[1] ?? '')
}

/** Checks one route's declaration and describes it; throws RISK_ERR_CONFIG_INVALID naming the route. */
export function describeRoute(method: string, options: Pick<RouteOptions, 'url' | 'config' | 'schema'>, auditEnabled: boolean): RegisteredRoute {
  const { url } = options
  const roles = options.config?.roles
  const audit = options.config?.audit ?? null
  const schema = (options.schema ?? null) as DocumentedSchema | null
  if (isPublicRoute(method, url)) {
    if (roles !== undefined) throw registrationError(method, url, 'is public (PUBLIC_ROUTES) and must not declare roles')
    if (audit !== null) throw registrationError(method, url, 'is public and cannot be audited: audited reads need a caller')
    return { method, url, access: 'public', audit: null, schema }
  }
  if (roles === undefined) throw registrationError(method, url, "declares no roles: add config: { roles: [...] } (or list it in PUBLIC_ROUTES if it must be public)")
  if (!Array.isArray(roles) || roles.length === 0) throw registrationError(method, url, 'declares an empty roles list: nobody could call it')
  const unknown = roles.filter((role) => !isApiRole(role))
  if (unknown.length > 0) throw registrationError(method, url, `declares unknown roles ${unknown.join(', ')}`)
  if (audit !== null) {
    if (!auditEnabled) throw registrationError(method, url, 'is audited but the app has no audit log: pass `audit` to buildApp')
    if (typeof audit.action !== 'string' || audit.action === '' || typeof audit.entity !== 'string' || audit.entity === '') throw registrationError(method, url, 'needs audit.action and audit.entity')
    if (audit.idParam !== undefined && !urlParams(url).includes(audit.idParam)) throw registrationError(method, url, `audits id parameter '${audit.idParam}', which is not in its URL`)
  }
  return { method, url, access: Object.freeze([...new Set(roles)]), audit, schema }
}

const registries = new WeakMap<FastifyInstance, RegisteredRoute[]>()

/**
 * Installs the onRoute check on `app` (before any route is added) and starts its registry.
 * Throwing from onRoute makes `app.get(...)` itself throw, at the line that declares the route.
 */
export function installRouteRegistry(app: FastifyInstance, options: { readonly auditEnabled: boolean }): void {
  const routes: RegisteredRoute[] = []
  registries.set(app, routes)
  app.addHook('onRoute', (route) => {
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) routes.push(describeRoute(method, route, options.auditEnabled))
  })
}

/** The routes registered on an app built by `buildApp`, in registration order (HEAD twins included). */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  const routes = registries.get(app)
  if (routes === undefined) throw new RiskError('RISK_ERR_CONFIG_INVALID', 'this fastify instance was not built by buildApp (no route registry)')
  return routes
}
