/**
 * The roles table (issue 8, "how it is checked"): every registered route, called with a token
 * of every role, with no token and with a bad token. Routes are read from the app's registry,
 * so a route added to buildApp is covered here without editing this file.
 *
 * Only the declared roles get past access control (any status but 401/403), the other roles
 * get 403, no token or a bad one 401, and nothing answers 5xx. Requests carry a body, params
 * and query built from the route's schema, so the allowed calls reach the handler.
 */
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registeredRoutes, type RegisteredRoute } from '../../api/route-config.js'
import { ALL_API_ROLES } from '../../api/roles.js'
import { bearer, buildTestApp, tokenFor, type TestApp } from './helpers.js'

type Schema = Record<string, unknown>

/** A small value that satisfies the common JSON-schema keywords (examples and defaults first). */
function sampleFromSchema(schema: unknown): unknown {
  if (schema === null || typeof schema !== 'object') return 'sample'
  const node = schema as Schema
  if (Array.isArray(node.examples) && node.examples.length > 0) return node.examples[0]
  if (node.default !== undefined) return node.default
  if (node.const !== undefined) return node.const
  if (Array.isArray(node.enum) && node.enum.length > 0) return node.enum[0]
  const type = Array.isArray(node.type) ? node.type[0] : node.type
  switch (type) {
    case 'object': {
      const properties = (node.properties ?? {}) as Record<string, unknown>
      const required = (node.required ?? []) as string[]
      return Object.fromEntries(required.map((name) => [name, sampleFromSchema(properties[name])]))
    }
    case 'array': return Array.from({ length: Number(node.minItems ?? 0) }, () => sampleFromSchema(node.items))
    case 'integer': case 'number': return Number(node.minimum ?? 1)
    case 'boolean': return true
    case 'null': return null
    default:
      if (node.format === 'date-time') return '2025-01-15T12:00:00.000Z'
      return 'sample'.padEnd(Number(node.minLength ?? 0), 'x')
  }
}

function requestFor(route: RegisteredRoute): { method: string; url: string; payload?: string; headers: Record<string, string> } {
  const paramsSample = (sampleFromSchema(route.schema?.params ?? { type: 'object' }) ?? {}) as Record<string, unknown>
  const url = route.url.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, (_match, name: string) => encodeURIComponent(String(paramsSample[name] ?? `sample-${name}`)))
  const query = new URLSearchParams(Object.entries((sampleFromSchema(route.schema?.querystring ?? { type: 'object' }) ?? {}) as Record<string, unknown>).map(([name, value]): [string, string] => [name, String(value)]))
  const search = query.size === 0 ? '' : `?${query}`
  const hasBody = route.schema?.body !== undefined
  return { method: route.method, url: `${url.replace(/\*/g, 'sample')}${search}`, ...(hasBody ? { payload: JSON.stringify(sampleFromSchema(route.schema?.body)) } : {}), headers: hasBody ? { 'content-type': 'application/json' } : {} }
}

const callers: Array<{ name: string; headers: Record<string, string>; roles: readonly string[] | null }> = [
  ...ALL_API_ROLES.map((role) => ({ name: role, headers: bearer(tokenFor([role], `user-${role}`)), roles: [role] })),
  { name: 'no roles', headers: bearer(tokenFor([], 'nobody')), roles: [] },
  { name: 'no token', headers: {}, roles: null },
  { name: 'bad token', headers: bearer(`${tokenFor(['rules_admin'])}x`), roles: null },
]

/** Calls every route of `app` as every caller; returns what broke the table (empty = all good). */
async function roleTableFailures(app: FastifyInstance): Promise<{ calls: number; failures: string[] }> {
  const failures: string[] = []
  let calls = 0
  for (const route of registeredRoutes(app)) {
    const request = requestFor(route)
    for (const caller of callers) {
      const response = await app.inject({ method: request.method as 'GET', url: request.url, payload: request.payload, headers: { ...request.headers, ...caller.headers } })
      calls += 1
      const status = response.statusCode
      const label = `${route.method} ${route.url} as ${caller.name}: ${status} ${response.body.slice(0, 200)}`
      if (status >= 500) failures.push(`5xx: ${label}`)
      if (route.access === 'public') {
        if (status === 401 || status === 403) failures.push(`public route refused: ${label}`)
      } else if (caller.roles === null) {
        if (status !== 401) failures.push(`expected 401: ${label}`)
      } else if (caller.roles.some((role) => (route.access as readonly string[]).includes(role))) {
        if (status === 401 || status === 403) failures.push(`declared role refused: ${label}`)
      } else if (status !== 403) {
        failures.push(`expected 403: ${label}`)
      }
    }
  }
  return { calls, failures }
}

describe('roles table: every route x every role', () => {
  let test: TestApp
  beforeAll(async () => {
    test = await buildTestApp()
    await test.app.ready()
  })
  afterAll(async () => test.close())

  it('covers the sample routes (so the table is never empty)', () => {
    const protectedRoutes = registeredRoutes(test.app).filter((route) => route.access !== 'public').map((route) => `${route.method} ${route.url}`)
    expect(protectedRoutes).toEqual(expect.arrayContaining(['GET /me', 'GET /audit/status']))
  })

  it('lets exactly the declared roles through, refuses the others with 403 and anonymous callers with 401, and never answers 5xx', async () => {
    const { calls, failures } = await roleTableFailures(test.app)
    expect(failures).toEqual([])
    expect(calls).toBe(registeredRoutes(test.app).length * callers.length)
  })

  it('would catch a route that fails with a 5xx (the table can fail)', async () => {
    const broken = await buildTestApp()
    try {
      broken.app.get('/broken', { config: { roles: ['data_scientist'] } }, async () => { throw new TypeError('a bug') })
      const { failures } = await roleTableFailures(broken.app)
      expect(failures).toEqual([expect.stringMatching(/^5xx: GET \/broken as data_scientist: 500/), expect.stringMatching(/^5xx: HEAD \/broken as data_scientist: 500/)])
    } finally {
      await broken.close()
    }
  })
})
