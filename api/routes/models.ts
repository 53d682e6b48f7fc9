/**
 * Models for the data scientists (issue 8, item 2): status, upload, activate, shadow, unshadow,
 * roll back. Everything goes through the ModelService (models/service.ts, docs/models.md): a
 * change loads and checks the models first and is refused with RISK_ERR_MODEL_MISMATCH (422)
 * when one does not fit the feature contract, its manifest or its checksum; then the shared
 * deployment file is written atomically and the engines pick it up on their next reload.
 *
 * | route | roles | audit |
 * | --- | --- | --- |
 * | GET /models | data_scientist, compliance_officer | — |
 * | POST /models/upload | data_scientist | model.upload, after = the folder's model and sha256 |
 * | POST /models/:folder/activate, /shadow, /unshadow | data_scientist | model.activate / .shadow / .unshadow, before/after = the deployment |
 * | POST /models/rollback | data_scientist | model.rollback, before/after = the deployment |
 *
 * A no-op (activate the champion, shadow a shadow) answers 200 with `changed: false`; an unknown
 * folder, shadowing the champion, rolling back with nothing to go back to, or uploading over an
 * existing folder is 400 RISK_ERR_REQUEST_INVALID (the service's refusals).
 *
 * Example:
 *   POST /models/upload { "folder": "withdrawal-burst-xgb-v2", "manifest": { … }, "onnxBase64": "CAcSB…" }
 *     -> 201 { folder: "withdrawal-burst-xgb-v2", model: "withdrawal-burst-xgb@2.0.0", sha256: "…" }
 *   POST /models/withdrawal-burst-xgb-v2/shadow  -> { changed: true, entry: { action: "shadow", before, after, … }, current: { … } }
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { RiskError } from '../../core/errors.js'
import type { DeploymentAuditEntry } from '../../models/deployment.js'
import type { CurrentModels, ModelService } from '../../models/service.js'
import { recordAuditChange } from '../audit.js'
import { API_ROLES } from '../roles.js'

/** The largest upload body: the base64 ONNX plus the manifest. The shipped model is ~50 KiB. */
export const MODEL_UPLOAD_MAX_BODY_BYTES = 64 * 1024 * 1024

/** Folder names as models/deployment.ts accepts them (checked there too). */
const FOLDER_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'
/** The manifest's `file`: a plain file name inside the folder, never a path. */
const MODEL_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

const folderParams = { type: 'object', required: ['folder'], properties: { folder: { type: 'string', pattern: FOLDER_PATTERN, examples: ['withdrawal-burst-xgb-v1'] } } } as const

const deployedSchema = { type: 'object', required: ['folder', 'modelId', 'modelVersion'], properties: { folder: { type: 'string' }, modelId: { type: 'string' }, modelVersion: { type: 'string' } } } as const
const currentSchema = {
  type: 'object',
  required: ['champion', 'shadows'],
  properties: { champion: { anyOf: [deployedSchema, { type: 'null' }] }, shadows: { type: 'array', items: deployedSchema } },
} as const
const stateSchema = { type: 'object', required: ['champion', 'shadows'], properties: { champion: { type: ['string', 'null'] }, shadows: { type: 'array', items: { type: 'string' } } } } as const
const entrySchema = {
  type: 'object',
  required: ['atMs', 'actor', 'action', 'folder', 'model', 'sha256', 'before', 'after'],
  properties: {
    atMs: { type: 'integer' }, actor: { type: 'string' }, action: { type: 'string' }, folder: { type: 'string' },
    model: { type: 'string' }, sha256: { type: 'string' }, before: stateSchema, after: stateSchema,
  },
} as const
const changeResponse = {
  200: {
    type: 'object',
    required: ['changed', 'entry', 'current'],
    properties: { changed: { type: 'boolean' }, entry: { anyOf: [entrySchema, { type: 'null' }] }, current: currentSchema },
  },
} as const

function caller(request: FastifyRequest): string {
  // The access hook let the request through, so a principal is set; this guards a wiring mistake.
  if (request.principal === null) throw new RiskError('RISK_ERR_UNAUTHENTICATED', 'no verified caller on a protected route')
  return request.principal.subject
}

const stateOf = (current: CurrentModels): { champion: string | null; shadows: string[] } => ({ champion: current.champion?.folder ?? null, shadows: current.shadows.map((model) => model.folder) })

/** The answer and audit record of a deployment change (a no-op audits the unchanged state on both sides). */
function answerChange(request: FastifyRequest, models: ModelService, entry: DeploymentAuditEntry | null): { changed: boolean; entry: DeploymentAuditEntry | null; current: CurrentModels } {
  const current = models.current()
  const before = entry?.before ?? stateOf(current)
  const after = entry?.after ?? stateOf(current)
  recordAuditChange(request, { before, after, detail: entry === null ? { changed: false } : { changed: true, folder: entry.folder, model: entry.model, sha256: entry.sha256 } })
  return { changed: entry !== null, entry, current }
}

interface UploadBody {
  readonly folder: string
  readonly manifest: Record<string, unknown>
  readonly onnxBase64: string
}

/**
 * Writes the uploaded manifest and ONNX file as `<temp>/<folder>/` for ModelService.upload,
 * which checks and copies it; the caller removes `<temp>`.
 */
function stageUpload(body: UploadBody, temporary: string): string {
  const file = body.manifest.file
  if (typeof file !== 'string' || !MODEL_FILE_NAME.test(file) || file === 'manifest.json') {
    throw new RiskError('RISK_ERR_MODEL_MISMATCH', `manifest.file must name the ONNX file inside the folder (a plain name such as 'model.onnx'), got ${JSON.stringify(file ?? null)}; re-export the model with models/training/train.py`, { folder: body.folder })
  }
  const encoded = body.onnxBase64.replace(/\s+/g, '')
  if (!BASE64.test(encoded) || encoded.length % 4 !== 0) throw new RiskError('RISK_ERR_REQUEST_INVALID', 'onnxBase64 is not base64 (RFC 4648, with padding); encode the model file with `base64 -w0 model.onnx`', { folder: body.folder })
  const folder = path.join(temporary, body.folder)
  fs.mkdirSync(folder)
  fs.writeFileSync(path.join(folder, 'manifest.json'), `${JSON.stringify(body.manifest, null, 2)}\n`)
  fs.writeFileSync(path.join(folder, file), Buffer.from(encoded, 'base64'))
  return folder
}

export function registerModelRoutes(app: FastifyInstance, models: ModelService): void {
  app.get('/models', {
    config: { roles: [API_ROLES.dataScientist, API_ROLES.complianceOfficer] },
    schema: {
      summary: 'The deployment (champion and shadows), the model folders available, and the change history', tags: ['models'],
      response: {
        200: {
          type: 'object',
          required: ['current', 'available', 'history'],
          properties: {
            current: currentSchema,
            available: { type: 'array', items: { type: 'string' } },
            history: { type: 'array', items: entrySchema },
            reloadError: { type: 'string' },
          },
        },
      },
    },
  }, async () => {
    // Another process (the CLI, another API) may have changed the deployment since.
    let reloadError: string | undefined
    try {
      await models.reloadIfChanged()
    } catch (error) {
      reloadError = (error as Error).message
    }
    return { current: models.current(), available: models.available(), history: [...models.history()].reverse(), ...(reloadError === undefined ? {} : { reloadError }) }
  })

  app.post('/models/upload', {
    bodyLimit: MODEL_UPLOAD_MAX_BODY_BYTES,
    config: { roles: [API_ROLES.dataScientist], audit: { action: 'model.upload', entity: 'model' } },
    schema: {
      summary: 'Upload a model folder (manifest + ONNX); it is checked, then stored under its folder name, never overwriting one', tags: ['models'],
      description: `The body is at most ${MODEL_UPLOAD_MAX_BODY_BYTES / (1024 * 1024)} MiB. The manifest is the one models/training/train.py writes; its \`file\` names the ONNX file. 422 RISK_ERR_MODEL_MISMATCH when the model does not fit the feature contract, its manifest or its sha256.`,
      body: {
        type: 'object',
        required: ['folder', 'manifest', 'onnxBase64'],
        additionalProperties: false,
        properties: {
          folder: { type: 'string', pattern: FOLDER_PATTERN },
          manifest: { type: 'object', additionalProperties: true },
          onnxBase64: { type: 'string', minLength: 4, contentEncoding: 'base64' },
        },
        examples: [{ folder: 'withdrawal-burst-xgb-v2', manifest: { modelId: 'withdrawal-burst-xgb', modelVersion: '2.0.0', file: 'model.onnx' }, onnxBase64: 'AAAA' }],
      },
      response: { 201: { type: 'object', required: ['folder', 'model', 'sha256', 'available'], properties: { folder: { type: 'string' }, model: { type: 'string' }, sha256: { type: 'string' }, available: { type: 'array', items: { type: 'string' } } } } },
    },
  }, async (request, reply) => {
    const body = request.body as UploadBody
    const temporary = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-model-upload-'))
    try {
      const entry = await models.upload(stageUpload(body, temporary), caller(request))
      recordAuditChange(request, { entityId: entry.folder, after: { folder: entry.folder, model: entry.model, sha256: entry.sha256 } })
      return await reply.code(201).send({ folder: entry.folder, model: entry.model, sha256: entry.sha256, available: models.available() })
    } finally {
      fs.rmSync(temporary, { recursive: true, force: true })
    }
  })

  app.post('/models/rollback', {
    config: { roles: [API_ROLES.dataScientist], audit: { action: 'model.rollback', entity: 'model' } },
    schema: { summary: 'Bring back the champion the last activation replaced', tags: ['models'], response: changeResponse },
  }, async (request) => {
    const entry = await models.rollback(caller(request))
    recordAuditChange(request, { entityId: entry.folder })
    return answerChange(request, models, entry)
  })

  const changes = [
    { verb: 'activate', summary: 'Make a model folder the champion (it stops shadowing if it did)', apply: (folder: string, actor: string) => models.activate(folder, actor) },
    { verb: 'shadow', summary: 'Score a model folder beside the champion (shadow scores never decide)', apply: (folder: string, actor: string) => models.shadow(folder, actor) },
    { verb: 'unshadow', summary: 'Stop scoring a shadow model', apply: (folder: string, actor: string) => models.unshadow(folder, actor) },
  ] as const
  for (const { verb, summary, apply } of changes) {
    app.post(`/models/:folder/${verb}`, {
      config: { roles: [API_ROLES.dataScientist], audit: { action: `model.${verb}`, entity: 'model', idParam: 'folder' } },
      schema: { summary, tags: ['models'], params: folderParams, response: changeResponse },
    }, async (request) => answerChange(request, models, await apply((request.params as { folder: string }).folder, caller(request))))
  }
}
