import { describe, expect, it } from 'vitest'
import { openApiPath } from '../../api/openapi.js'
import { buildBareTestApp } from './helpers.js'

describe('GET /openapi.json', () => {
  it('describes every registered route with its schemas, roles, security and coded errors', async () => {
    const test = await buildBareTestApp()
    try {
      test.app.post('/cases/:id/comments', {
        config: { roles: ['aml_officer', 'compliance_officer'], audit: { action: 'case.comment', entity: 'case' } },
        schema: {
          summary: 'Comment on a case',
          tags: ['cases'],
          params: { type: 'object', required: ['id'], properties: { id: { type: 'string', description: 'case id' } } },
          querystring: { type: 'object', properties: { notify: { type: 'boolean' } } },
          body: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
          response: { 201: { type: 'object', properties: { commentId: { type: 'string' } } } },
        },
      }, async (_request, reply) => reply.code(201).send({ commentId: 'k-1' }))
      const response = await test.app.inject({ url: '/openapi.json' })
      expect(response.statusCode).toBe(200)
      const document = response.json()
      expect(document.openapi).toBe('3.1.0')
      expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
      expect(Object.keys(document.paths).sort()).toEqual(['/audit/status', '/cases/{id}/comments', '/health', '/me', '/metrics', '/openapi.json', '/ready'])

      const comment = document.paths['/cases/{id}/comments'].post
      expect(comment).toMatchObject({
        operationId: 'postCasesIdComments',
        summary: 'Comment on a case',
        tags: ['cases'],
        description: 'Roles: aml_officer, compliance_officer. Audited as case.comment on case.',
        security: [{ bearerAuth: [] }],
        'x-pitboss-roles': ['aml_officer', 'compliance_officer'],
        parameters: [
          { name: 'id', in: 'path', required: true, description: 'case id', schema: { type: 'string', description: 'case id' } },
          { name: 'notify', in: 'query', required: false, schema: { type: 'boolean' } },
        ],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['text'] } } } },
      })
      expect(Object.keys(comment.responses).sort()).toEqual(['201', '400', '401', '403', '429'])
      expect(comment.responses['403'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' })

      const me = document.paths['/me'].get
      expect(me.description).toBe('Roles: aml_officer, compliance_officer, data_scientist, rules_admin, regulator_read.')
      expect(me.responses['200'].content['application/json'].schema.required).toEqual(['subject', 'roles', 'expiresAt'])
      expect(document.paths['/audit/status'].get['x-pitboss-roles']).toEqual(['compliance_officer', 'regulator_read'])
      const health = document.paths['/health'].get
      expect(health.security).toEqual([])
      expect(health.description).toBe('Public: no token needed.')
      expect(Object.keys(health.responses).sort()).toEqual(['200', '429'])
      expect(document.paths['/health'].head).toBeUndefined()
    } finally {
      await test.close()
    }
  })

  it('turns fastify URL patterns into OpenAPI paths', () => {
    expect(openApiPath('/players/:playerId/timeline')).toBe('/players/{playerId}/timeline')
    expect(openApiPath('/reports/:period(^\\d+$)')).toBe('/reports/{period}')
    expect(openApiPath('/static/*')).toBe('/static/{wildcard}')
  })
})
