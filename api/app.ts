/**
 * The HTTP API, built apart from the process that listens (api/main.ts) so tests drive it with
 * `app.inject()`. This first cut serves health and metrics; officers', data scientists' and
 * regulators' routes, with OAuth2 roles, arrive with the operator-surface issue.
 *
 * Errors are coded: `{ error: { code, message } }` with `PITBOSS_API_*` codes.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import { Counter, Histogram, type Registry } from 'prom-client'

export interface ApiDependencies {
  readonly metrics: Registry
  /** Readiness of what the API depends on; each returns true when reachable. */
  readonly checks: Readonly<Record<string, () => Promise<boolean>>>
  readonly version: string
}

export const API_ERROR_CODES = {
  PITBOSS_API_NOT_FOUND: 404,
  PITBOSS_API_INTERNAL: 500,
} as const

export function buildApp(dependencies: ApiDependencies): FastifyInstance {
  const app = Fastify({ logger: false })
  const responses = new Counter({ name: 'pitboss_api_responses_total', help: 'API responses by route and status', labelNames: ['route', 'status'], registers: [dependencies.metrics] })
  const duration = new Histogram({ name: 'pitboss_api_response_seconds', help: 'API response time by route', labelNames: ['route'], buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [dependencies.metrics] })

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched'
    responses.inc({ route, status: String(reply.statusCode) })
    duration.observe({ route }, reply.elapsedTime / 1000)
  })

  app.setNotFoundHandler(async (request, reply) => reply.code(404).send({ error: { code: 'PITBOSS_API_NOT_FOUND', message: `no route ${request.method} ${request.url}` } }))
  app.setErrorHandler(async (error: { statusCode?: number; code?: string; message: string }, _request, reply) => {
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
    return reply.code(status).send({ error: { code: status === 500 ? 'PITBOSS_API_INTERNAL' : error.code ?? 'PITBOSS_API_BAD_REQUEST', message: status === 500 ? 'internal error' : error.message } })
  })

  app.get('/health', async () => ({ status: 'ok', version: dependencies.version }))
  app.get('/ready', async (_request, reply) => {
    const results = Object.fromEntries(await Promise.all(Object.entries(dependencies.checks).map(async ([name, check]) => [name, await check().catch(() => false)] as const)))
    const ready = Object.values(results).every(Boolean)
    return reply.code(ready ? 200 : 503).send({ ready, checks: results })
  })
  app.get('/metrics', async (_request, reply) => reply.type(dependencies.metrics.contentType).send(await dependencies.metrics.metrics()))
  return app
}
