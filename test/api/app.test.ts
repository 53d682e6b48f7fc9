import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { RiskError } from '../../core/errors.js'
import { buildApp } from '../../api/app.js'
import { bearer, buildBareTestApp, tokenFor } from './helpers.js'

describe('api', () => {
  it('answers health, readiness and metrics, and a coded 404', async () => {
    let reachable = true
    const app = buildApp({ metrics: new Registry(), version: 'test', checks: { clickhouse: async () => reachable } })
    expect((await app.inject({ url: '/health' })).json()).toEqual({ status: 'ok', version: 'test' })
    expect((await app.inject({ url: '/ready' })).statusCode).toBe(200)
    reachable = false
    const notReady = await app.inject({ url: '/ready' })
    expect(notReady.statusCode).toBe(503)
    expect(notReady.json()).toEqual({ ready: false, checks: { clickhouse: false } })
    const missing = await app.inject({ url: '/nowhere' })
    expect(missing.statusCode).toBe(404)
    expect(missing.json().error.code).toBe('PITBOSS_API_NOT_FOUND')
    const metrics = await app.inject({ url: '/metrics' })
    expect(metrics.body).toContain('pitboss_api_responses_total{route="/ready",status="503"} 1')
    await app.close()
  })
})

describe('api validation and coded errors', () => {
  it('validates params, query and body by JSON schema, naming the field, never answering 5xx', async () => {
    const test = await buildBareTestApp()
    try {
      test.app.post('/cases/:id/comments', {
        config: { roles: ['aml_officer'] },
        schema: {
          params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^c-[0-9]+$' } } },
          querystring: { type: 'object', properties: { notify: { type: 'boolean' }, limit: { type: 'integer', minimum: 1 } } },
          body: {
            type: 'object', required: ['text'], additionalProperties: false,
            properties: { text: { type: 'string', minLength: 1 }, amountMinor: { type: 'integer' }, tags: { type: 'array', items: { type: 'string', maxLength: 8 } } },
          },
        },
      }, async (request) => ({ id: (request.params as { id: string }).id, query: request.query }))
      const headers = bearer(tokenFor(['aml_officer']))
      const post = (url: string, payload: unknown, extra: Record<string, string> = {}) => test.app.inject({ method: 'POST', url, payload: payload as string, headers: { ...headers, ...extra } })
      const ok = await post('/cases/c-1/comments?notify=true&limit=5', { text: 'looks like structuring' })
      expect(ok.statusCode).toBe(200)
      expect(ok.json()).toEqual({ id: 'c-1', query: { notify: true, limit: 5 } })
      const cases: Array<[string, unknown, string, string]> = [
        ['/cases/c-1/comments', {}, 'body.text', 'body.text is required'],
        ['/cases/c-1/comments', { text: 'x', amountMinor: 'ten' }, 'body.amountMinor', 'body.amountMinor must be integer'],
        ['/cases/c-1/comments', { text: 'x', tags: ['ok', 'far-too-long'] }, 'body.tags.1', 'body.tags.1 must NOT have more than 8 characters'],
        ['/cases/c-1/comments', { text: 'x', amountMnor: 5 }, 'body.amountMnor', 'body.amountMnor is not a known field'],
        ['/cases/case-1/comments', { text: 'x' }, 'params.id', 'params.id must match pattern "^c-[0-9]+$"'],
        ['/cases/c-1/comments?limit=0', { text: 'x' }, 'querystring.limit', 'querystring.limit must be >= 1'],
        ['/cases/c-1/comments', [1, 2], 'body', 'body must be object'],
      ]
      for (const [url, payload, field, message] of cases) {
        const response = await post(url, payload)
        expect(response.statusCode, message).toBe(400)
        expect(response.json(), message).toEqual({ error: { code: 'RISK_ERR_REQUEST_INVALID', message, field } })
      }
      const malformed = await post('/cases/c-1/comments', '{"text":', { 'content-type': 'application/json' })
      expect(malformed.statusCode).toBe(400)
      expect(malformed.json().error.code).toBe('RISK_ERR_REQUEST_INVALID')
      const xml = await post('/cases/c-1/comments', '<text/>', { 'content-type': 'application/xml' })
      expect(xml.statusCode).toBe(415)
      expect(xml.json().error.code).toBe('RISK_ERR_REQUEST_INVALID')
      const badUrl = await test.app.inject({ url: '/cases/%E0%A4%A/comments', method: 'POST', headers })
      expect(badUrl.statusCode).toBe(400)
      expect(badUrl.json().error.code).toBe('RISK_ERR_REQUEST_INVALID')
    } finally {
      await test.close()
    }
  })

  it('maps RiskErrors to statuses and hides the internals of server faults', async () => {
    const test = await buildBareTestApp()
    try {
      const roles = { roles: ['aml_officer'] } as const
      test.app.get('/missing', { config: roles }, async () => { throw new RiskError('RISK_ERR_CASE_NOT_FOUND', 'no case c-9') })
      test.app.get('/conflict', { config: roles }, async () => { throw new RiskError('RISK_ERR_CASE_CONFLICT', 'case c-9 is at version 4, not 3') })
      test.app.get('/down', { config: roles }, async () => { throw new RiskError('RISK_ERR_CLICKHOUSE_UNAVAILABLE', 'connect ECONNREFUSED 10.0.0.7:8123') })
      test.app.get('/bug', { config: roles }, async () => { throw new TypeError('cannot read properties of undefined (reading secretThing)') })
      const headers = bearer(tokenFor(['aml_officer']))
      const answer = async (url: string) => { const response = await test.app.inject({ url, headers }); return [response.statusCode, response.json()] }
      expect(await answer('/missing')).toEqual([404, { error: { code: 'RISK_ERR_CASE_NOT_FOUND', message: 'no case c-9' } }])
      expect(await answer('/conflict')).toEqual([409, { error: { code: 'RISK_ERR_CASE_CONFLICT', message: 'case c-9 is at version 4, not 3' } }])
      expect(await answer('/down')).toEqual([503, { error: { code: 'RISK_ERR_CLICKHOUSE_UNAVAILABLE', message: 'ClickHouse did not answer or refused a write' } }])
      expect(await answer('/bug')).toEqual([500, { error: { code: 'PITBOSS_API_INTERNAL', message: 'internal error' } }])
    } finally {
      await test.close()
    }
  })
})
