import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { buildApp } from '../../api/app.js'
import { registeredRoutes } from '../../api/route-config.js'
import type { ApiRole } from '../../api/roles.js'
import { AUTH, buildTestApp } from './helpers.js'

describe('route declarations', () => {
  const app = buildApp({ metrics: new Registry(), version: 'test', checks: {}, auth: AUTH })

  it('refuses, at the line that registers it, a route without roles', () => {
    expect(() => app.get('/cases', async () => [])).toThrow(/RISK_ERR_CONFIG_INVALID: route GET \/cases declares no roles/)
    expect(() => app.route({ method: ['GET', 'POST'], url: '/both', config: { roles: ['aml_officer'] }, handler: async () => 'x' })).not.toThrow()
  })

  it('refuses empty or unknown roles, and roles on a public route', () => {
    expect(() => app.get('/empty', { config: { roles: [] } }, async () => 'x')).toThrow(/empty roles list/)
    expect(() => app.get('/unknown', { config: { roles: ['aml_officer', 'superuser' as ApiRole] } }, async () => 'x')).toThrow(/unknown roles superuser/)
    const other = buildApp({ metrics: new Registry(), version: 'test', checks: {} })
    expect(() => other.get('/health', { config: { roles: ['aml_officer'] } }, async () => 'x')).toThrow(/public \(PUBLIC_ROUTES\) and must not declare roles/)
  })

  it('refuses an audited route when the app has no audit log, or when its id parameter is not in the URL', async () => {
    expect(() => app.get('/cases/:id', { config: { roles: ['aml_officer'], audit: { action: 'case.read', entity: 'case' } } }, async () => 'x')).toThrow(/has no audit log/)
    const withAudit = await buildTestApp()
    try {
      expect(() => withAudit.app.get('/players/:id', { config: { roles: ['aml_officer'], audit: { action: 'player.read', entity: 'player', idParam: 'playerId' } } }, async () => 'x')).toThrow(/audits id parameter 'playerId', which is not in its URL/)
      expect(() => withAudit.app.get('/players/:playerId', { config: { roles: ['aml_officer'], audit: { action: 'player.read', entity: 'player', idParam: 'playerId' } } }, async () => 'x')).not.toThrow()
    } finally {
      await withAudit.close()
    }
  })

  it('records routes in plugins too, with their prefix', async () => {
    const child = buildApp({ metrics: new Registry(), version: 'test', checks: {}, auth: AUTH })
    await child.register(async (plugin) => {
      plugin.get('/rule-sets', { config: { roles: ['rules_admin'] } }, async () => [])
    }, { prefix: '/v1' })
    await child.ready()
    const routes = registeredRoutes(child)
    expect(routes.find((route) => route.url === '/v1/rule-sets' && route.method === 'GET')?.access).toEqual(['rules_admin'])
    expect(routes.filter((route) => route.access === 'public').map((route) => `${route.method} ${route.url}`)).toEqual([
      'GET /health', 'HEAD /health', 'GET /ready', 'HEAD /ready', 'GET /metrics', 'HEAD /metrics', 'GET /openapi.json', 'HEAD /openapi.json',
    ])
    await child.close()
    // A plugin registering a route without roles makes start-up fail, not just the line.
    const broken = buildApp({ metrics: new Registry(), version: 'test', checks: {}, auth: AUTH })
    void broken.register(async (plugin) => { plugin.get('/open', async () => 'x') })
    await expect(broken.ready()).rejects.toThrow(/route GET \/open declares no roles/)
  })
})
