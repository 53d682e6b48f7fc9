/**
 * The local schema registry's HTTP face: the REST subset of Confluent Schema Registry that
 * `@kafkajs/confluent-schema-registry` 3.9 and pitboss use, over the store in registry.ts.
 * Built here, listened on by main.ts (fastify's buildApp / listen split).
 *
 * Wire details follow Confluent:
 * - Requests may be `application/vnd.schemaregistry.v1+json`, `application/vnd.schemaregistry+json`
 *   or `application/json`; answers use the type the `Accept` header asks for among those
 *   (Confluent's `application/vnd.schemaregistry.v1+json` by default).
 * - Errors are `{ "error_code": 40401, "message": "Subject 'x' not found." }` with the HTTP
 *   status in the code's first three digits (see REGISTRY_ERROR_CODES).
 * - `?deleted=true` includes soft-deleted versions; `?permanent=true` hard-deletes a subject;
 *   `?defaultToGlobal=true` on `GET /config/:subject` falls back to the global level;
 *   `?verbose=true` on compatibility checks adds the reasons.
 *
 * Example:
 *   const app = createRegistryServer({ dataDir: '/tmp/registry' })
 *   const response = await app.inject({ method: 'POST', url: '/subjects/casino.deposits.v1-value/versions',
 *     headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
 *     payload: { schema: '{"type":"record","name":"Deposit","fields":[]}' } })
 *   response.json()  // { id: 1 }
 *   await app.close()  // closes the store and releases its lock
 */
import fastify from 'fastify'
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isRiskError } from '../../core/errors.js'
import type { Logger } from '../../core/logger.js'
import { silentLogger } from '../../core/logger.js'
import {
  REGISTRY_ERROR_CODES, RegistryError, SCHEMA_TYPES, SchemaRegistryStore, parseVersion,
} from './registry.js'
import type { SchemaRequest, SubjectVersionInfo } from './registry.js'

export const REGISTRY_CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json'
const ACCEPTED_CONTENT_TYPES = [REGISTRY_CONTENT_TYPE, 'application/vnd.schemaregistry+json', 'application/json'] as const

/** Avro schemas are small; 1 MiB leaves room for generated ones with long docs. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024

export interface RegistryServerOptions {
  /** Where the registry log and lock live; created if missing. */
  readonly dataDir: string
  readonly logger?: Logger
  /** Largest accepted request body; default DEFAULT_BODY_LIMIT_BYTES. */
  readonly bodyLimitBytes?: number
}

const schemaBody = {
  type: 'object',
  required: ['schema'],
  properties: {
    schema: { type: 'string', minLength: 1 },
    schemaType: { type: 'string' },
    references: { type: 'array', items: { type: 'object' } },
  },
} as const

const configBody = {
  type: 'object',
  required: ['compatibility'],
  properties: { compatibility: { type: 'string' } },
} as const

/** Which Confluent code a body that fails its JSON schema gets, per route. */
interface RouteConfig {
  readonly validationErrorCode: number
}

type Params = { subject: string; version: string; id: string }
type Query = Record<string, string | undefined>
type RegistryRequest = FastifyRequest<{ Params: Params; Querystring: Query; Body: SchemaRequest }>
type ConfigRequest = FastifyRequest<{ Params: Params; Querystring: Query; Body: { compatibility: string } }>

function flag(query: Query, name: string): boolean {
  return query[name] === 'true'
}

function parseSchemaId(raw: string): number {
  const id = /^\d+$/.test(raw) ? Number(raw) : Number.NaN
  if (!Number.isSafeInteger(id) || id < 1) throw new RegistryError(REGISTRY_ERROR_CODES.schemaNotFound, `Schema ${raw} not found`)
  return id
}

function negotiateContentType(accept: string | undefined): string {
  if (accept === undefined) return REGISTRY_CONTENT_TYPE
  if (accept.includes('application/vnd.schemaregistry')) return REGISTRY_CONTENT_TYPE
  if (accept.includes('application/json')) return 'application/json'
  return REGISTRY_CONTENT_TYPE
}

/** Confluent leaves schemaType out for AVRO; clients treat a missing type as AVRO. */
function versionBody(info: SubjectVersionInfo): Record<string, unknown> {
  return { subject: info.subject, version: info.version, id: info.id, schema: info.schema }
}

function errorBody(request: FastifyRequest, reply: FastifyReply, httpStatus: number, errorCode: number, message: string): FastifyReply {
  // Set again: fastify drops the content type a failed reply had.
  return reply.status(httpStatus).type(negotiateContentType(request.headers.accept)).send({ error_code: errorCode, message })
}

/**
 * Builds the registry app over a store opened on `dataDir` (throws RISK_ERR_SUBSTRATE if another
 * process holds it, RISK_ERR_STATE_CORRUPT if its log is damaged). `close()` closes the store.
 */
export function createRegistryServer(options: RegistryServerOptions): FastifyInstance {
  const logger = options.logger ?? silentLogger
  const store = SchemaRegistryStore.open({ dataDir: options.dataDir, logger })
  let app: FastifyInstance
  try {
    app = buildApp(store, logger, options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES)
  } catch (error) {
    store.close()
    throw error
  }
  return app
}

function buildApp(store: SchemaRegistryStore, logger: Logger, bodyLimitBytes: number): FastifyInstance {
  const app = fastify({
    // pino's Logger is a FastifyBaseLogger; naming the wider type keeps FastifyInstance's default generics.
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: bodyLimitBytes,
    // Subject names such as `com.example.casino.events.DepositStatusChanged-value` pass 100 characters.
    routerOptions: { maxParamLength: 1000 },
    // Bodies are checked as sent: no coercion of numbers into strings, no stripping of fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
  })
  app.addHook('onClose', async () => store.close())

  // Only JSON bodies (other types get 415). Confluent's client sends its content type on every
  // request, bodyless GET and DELETE included, so an empty body is no body rather than bad JSON.
  app.removeAllContentTypeParsers()
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.addContentTypeParser([...ACCEPTED_CONTENT_TYPES], { parseAs: 'string' }, (request, body, done) => {
    if (body === '') {
      done(null, undefined)
      return
    }
    parseJson(request, body as string, done)
  })

  app.addHook('onRequest', async (request, reply) => {
    reply.type(negotiateContentType(request.headers.accept))
  })

  app.setNotFoundHandler((request, reply) => errorBody(request, reply, 404, 404, 'HTTP 404 Not Found'))

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof RegistryError) {
      if (error.httpStatus >= 500) request.log.error({ err: error }, 'registry store error')
      return errorBody(request, reply, error.httpStatus, error.errorCode, error.detail)
    }
    if (error.validation !== undefined) {
      const config = request.routeOptions.config as Partial<RouteConfig>
      const errorCode = config.validationErrorCode ?? 422
      return errorBody(request, reply, 422, errorCode, `Invalid request body: ${error.message}`)
    }
    if (isRiskError(error)) {
      request.log.error({ err: error }, 'registry failure')
      return errorBody(request, reply, 500, REGISTRY_ERROR_CODES.storeError, error.message)
    }
    const status = error.statusCode ?? 500
    if (status >= 400 && status < 500) {
      // fastify's own refusals: bad JSON (400), body too large (413), unsupported media type (415)
      return errorBody(request, reply, status, status, error.message)
    }
    request.log.error({ err: error }, 'registry request failed')
    return errorBody(request, reply, 500, 500, 'Internal Server Error')
  })

  const schemaRoute = { schema: { body: schemaBody }, config: { validationErrorCode: REGISTRY_ERROR_CODES.invalidSchema } satisfies RouteConfig }
  const configRoute = { schema: { body: configBody }, config: { validationErrorCode: REGISTRY_ERROR_CODES.invalidCompatibilityLevel } satisfies RouteConfig }

  app.get('/', async () => ({}))

  app.get('/schemas/types', async () => [...SCHEMA_TYPES])

  app.get('/subjects', async (request: RegistryRequest) => store.listSubjects({ includeDeleted: flag(request.query, 'deleted') }))

  app.get('/subjects/:subject/versions', async (request: RegistryRequest) =>
    store.listVersions(request.params.subject, { includeDeleted: flag(request.query, 'deleted') }))

  app.get('/subjects/:subject/versions/:version', async (request: RegistryRequest) => {
    const version = parseVersion(request.params.version)
    return versionBody(store.getVersion(request.params.subject, version, { includeDeleted: flag(request.query, 'deleted') }))
  })

  app.get('/subjects/:subject/versions/:version/schema', async (request: RegistryRequest, reply) => {
    const version = parseVersion(request.params.version)
    // The schema itself, as its JSON text.
    return reply.send(store.getVersion(request.params.subject, version, { includeDeleted: flag(request.query, 'deleted') }).schema)
  })

  app.post('/subjects/:subject/versions', schemaRoute, async (request: RegistryRequest) => {
    const { id } = store.register(request.params.subject, request.body)
    return { id }
  })

  app.post('/subjects/:subject', schemaRoute, async (request: RegistryRequest) =>
    versionBody(store.lookup(request.params.subject, request.body, { includeDeleted: flag(request.query, 'deleted') })))

  app.delete('/subjects/:subject', async (request: RegistryRequest) =>
    store.deleteSubject(request.params.subject, { permanent: flag(request.query, 'permanent') }))

  app.get('/schemas/ids/:id', async (request: RegistryRequest) => {
    const found = store.getSchemaById(parseSchemaId(request.params.id))
    return found.schemaType === 'AVRO' ? { schema: found.schema } : { schema: found.schema, schemaType: found.schemaType }
  })

  app.get('/schemas/ids/:id/versions', async (request: RegistryRequest) =>
    store.getSubjectVersionsById(parseSchemaId(request.params.id), { includeDeleted: flag(request.query, 'deleted') }))

  const compatibilityAnswer = (request: RegistryRequest, result: { isCompatible: boolean; messages: readonly string[] }): Record<string, unknown> =>
    flag(request.query, 'verbose') ? { is_compatible: result.isCompatible, messages: result.messages } : { is_compatible: result.isCompatible }

  app.post('/compatibility/subjects/:subject/versions/:version', schemaRoute, async (request: RegistryRequest) => {
    const version = parseVersion(request.params.version)
    return compatibilityAnswer(request, store.testCompatibility(request.params.subject, version, request.body))
  })

  app.post('/compatibility/subjects/:subject/versions', schemaRoute, async (request: RegistryRequest) =>
    compatibilityAnswer(request, store.testCompatibility(request.params.subject, undefined, request.body)))

  app.get('/config', async () => ({ compatibilityLevel: store.getGlobalCompatibility() }))

  app.put('/config', configRoute, async (request: ConfigRequest) =>
    ({ compatibility: store.setCompatibility(null, request.body.compatibility) }))

  app.get('/config/:subject', async (request: ConfigRequest) =>
    ({ compatibilityLevel: store.getSubjectCompatibility(request.params.subject, { defaultToGlobal: flag(request.query, 'defaultToGlobal') }) }))

  app.put('/config/:subject', configRoute, async (request: ConfigRequest) =>
    ({ compatibility: store.setCompatibility(request.params.subject, request.body.compatibility) }))

  app.delete('/config/:subject', async (request: ConfigRequest) =>
    ({ compatibilityLevel: store.deleteSubjectCompatibility(request.params.subject) }))

  return app
}
