import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { buildApp } from '../../api/app.js'

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
