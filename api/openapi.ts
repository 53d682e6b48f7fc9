/**
 * `GET /openapi.json`: an OpenAPI 3.1 document built from the routes as registered
 * (route-config.ts keeps the registry), so a route is documented by declaring its schema.
 * Each protected operation carries the bearer security scheme, its roles in the description
 * and in `x-pitboss-roles`, and the coded error responses the foundation can give.
 *
 * Example: a route `GET /cases/:id` with `config: { roles: ['aml_officer'] }` and a params
 * schema becomes `paths['/cases/{id}'].get` with a path parameter `id`, `security:
 * [{ bearerAuth: [] }]` and the description "Roles: aml_officer.".
 */
import type { DocumentedSchema, RegisteredRoute } from './route-config.js'

type JsonObject = Record<string, unknown>

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'RISK_ERR_* code (docs/errors.md), RISK_ERR_RATE_LIMITED or PITBOSS_API_*' },
        message: { type: 'string', description: 'what went wrong and what to do about it' },
        field: { type: 'string', description: 'for RISK_ERR_REQUEST_INVALID: the field that failed, e.g. body.amountMinor' },
      },
    },
  },
} as const

const errorResponse = (description: string): JsonObject => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } })

/** `/cases/:id` -> `/cases/{id}`; fastify's regexp suffixes and `*` wildcards included. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, '{$1}').replace(/\*/g, '{wildcard}')
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}

function parametersOf(schema: unknown, location: 'path' | 'query' | 'header'): JsonObject[] {
  if (schema === null || typeof schema !== 'object') return []
  const object = schema as { properties?: Record<string, JsonObject>; required?: string[] }
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: location,
    required: location === 'path' || (object.required ?? []).includes(name),
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    schema: clone(property),
  }))
}

function responsesOf(schema: DocumentedSchema | null): JsonObject {
  const declared = (schema?.response ?? {}) as Record<string, unknown>
  const responses: JsonObject = {}
  for (const [status, body] of Object.entries(declared)) {
    const code = status.toLowerCase() === 'default' ? 'default' : status.toUpperCase()
    const description = body !== null && typeof body === 'object' && typeof (body as JsonObject).description === 'string' ? (body as JsonObject).description : 'response'
    responses[code] = { description, content: { 'application/json': { schema: clone(body) } } }
  }
  if (Object.keys(responses).length === 0) responses['200'] = { description: 'OK' }
  return responses
}

export interface OpenApiInfo {
  readonly title: string
  readonly version: string
}

export function buildOpenApiDocument(routes: readonly RegisteredRoute[], info: OpenApiInfo): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {}
  for (const route of routes) {
    // HEAD twins of GET routes add nothing to the description.
    if (route.method === 'HEAD' && routes.some((other) => other.method === 'GET' && other.url === route.url)) continue
    const schema = route.schema
    const isPublic = route.access === 'public'
    const rolesLine = isPublic ? 'Public: no token needed.' : `Roles: ${route.access.join(', ')}.`
    const auditLine = route.audit === null ? '' : ` Audited as ${route.audit.action} on ${route.audit.entity}.`
    const operation: JsonObject = {
      operationId: `${route.method.toLowerCase()}${openApiPath(route.url).replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_match, next: string | undefined) => (next ?? '').toUpperCase())}`,
      ...(typeof schema?.summary === 'string' ? { summary: schema.summary } : {}),
      description: [rolesLine + auditLine, typeof schema?.description === 'string' ? schema.description : ''].filter(Boolean).join('\n\n'),
      ...(Array.isArray(schema?.tags) ? { tags: schema.tags } : {}),
      security: isPublic ? [] : [{ bearerAuth: [] }],
      ...(isPublic ? {} : { 'x-pitboss-roles': [...route.access] }),
      ...(route.audit === null ? {} : { 'x-pitboss-audit': { ...route.audit } }),
      parameters: [...parametersOf(schema?.params, 'path'), ...parametersOf(schema?.querystring, 'query'), ...parametersOf(schema?.headers, 'header')],
      ...(schema?.body === undefined ? {} : { requestBody: { required: true, content: { 'application/json': { schema: clone(schema.body) } } } }),
      responses: {
        ...responsesOf(schema),
        ...(schema?.body !== undefined || schema?.params !== undefined || schema?.querystring !== undefined ? { 400: errorResponse('RISK_ERR_REQUEST_INVALID: the request failed validation; `field` names the field') } : {}),
        ...(isPublic ? {} : { 401: errorResponse('RISK_ERR_UNAUTHENTICATED: no valid bearer token'), 403: errorResponse('RISK_ERR_FORBIDDEN: the token has none of the roles above') }),
        429: errorResponse('RISK_ERR_RATE_LIMITED: too many requests; see Retry-After'),
      },
    }
    const pathItem = (paths[openApiPath(route.url)] ??= {})
    pathItem[route.method.toLowerCase()] = operation
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version },
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'OAuth2 access token (RS256 or HS256) with the caller\'s roles in `roles` or `realm_access.roles`' } },
      schemas: { Error: ERROR_SCHEMA },
    },
  }
}
