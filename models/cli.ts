/**
 * Model deployment from the command line (issue 4, item 3): what decides, what shadows, and the
 * changes, each checked, audited in the deployment file, and picked up by running engines
 * without a restart (they call `ModelService.reloadIfChanged` on a timer).
 *
 *   npx tsx models/cli.ts status
 *   npx tsx models/cli.ts activate <folder> | shadow <folder> | unshadow <folder> | rollback | upload <path>
 *     [--actor name] [--models-dir dir] [--deployment file]
 *
 * Defaults: --actor the OS user; --models-dir the repository's models/shipped; --deployment
 * `<state dir>/models/deployment.json` (PITBOSS_STATE_DIR, see core/config.ts). A refusal exits
 * with code 2 and the coded error on stderr; anything else unexpected exits 1.
 */
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { systemClock } from '../core/clock.js'
import { loadConfig } from '../core/config.js'
import { isRiskError, RiskError } from '../core/errors.js'
import { createLogger } from '../core/logger.js'
import type { DeploymentAuditEntry } from './deployment.js'
import { loadModelService, SHIPPED_MODEL_FOLDER, SHIPPED_MODELS_DIRECTORY, type ModelService } from './service.js'

const USAGE = 'usage: models/cli.ts status | activate <folder> | shadow <folder> | unshadow <folder> | rollback | upload <path> [--actor name] [--models-dir dir] [--deployment file]'

const usageError = (message: string): RiskError => new RiskError('RISK_ERR_REQUEST_INVALID', `${message}; ${USAGE}`)

const formatEntry = (entry: DeploymentAuditEntry): string =>
  `${new Date(entry.atMs).toISOString()} ${entry.actor} ${entry.action} ${entry.folder} (${entry.model}): ` +
  `champion ${entry.before.champion ?? 'none'} -> ${entry.after.champion ?? 'none'}, shadows [${entry.before.shadows.join(', ')}] -> [${entry.after.shadows.join(', ')}]`

function status(service: ModelService, deploymentFile: string): string {
  const { champion, shadows } = service.current()
  const name = (model: { folder: string; modelId: string; modelVersion: string }): string => `${model.folder} (${model.modelId}@${model.modelVersion})`
  const lines = [
    `deployment ${deploymentFile}`,
    `champion   ${champion === null ? 'none' : name(champion)}`,
    `shadows    ${shadows.length === 0 ? 'none' : shadows.map(name).join(', ')}`,
    `available  ${service.available().join(', ') || 'none'}`,
    'last changes:',
    ...service.history().slice(-5).map((entry) => `  ${formatEntry(entry)}`),
  ]
  if (service.history().length === 0) lines.push('  none')
  return `${lines.join('\n')}\n`
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { actor: { type: 'string' }, 'models-dir': { type: 'string' }, deployment: { type: 'string' } },
  })
  const [command = 'status', argument, ...rest] = positionals
  if (rest.length > 0) throw usageError(`unexpected arguments: ${rest.join(' ')}`)
  const config = loadConfig()
  const modelsDir = path.resolve(values['models-dir'] ?? SHIPPED_MODELS_DIRECTORY)
  const deploymentFile = path.resolve(values.deployment ?? path.join(config.state.dir, 'models', 'deployment.json'))
  const actor = values.actor ?? os.userInfo().username
  // Skip models that do not load: the CLI must be able to roll back or activate away from them.
  // Logs at warn and above only: stdout already says what was done, info lines would repeat it.
  const service = await loadModelService({
    modelsDir, deploymentFile, clock: systemClock, logger: createLogger('models-cli', 'warn'),
    defaultChampion: SHIPPED_MODEL_FOLDER, unloadableAtStart: 'skip',
  })
  try {
    const needsArgument = (): string => {
      if (argument === undefined) throw usageError(`${command} needs a model folder`)
      return argument
    }
    let entry: DeploymentAuditEntry | null
    switch (command) {
      case 'status':
        process.stdout.write(status(service, deploymentFile))
        return
      case 'activate': entry = await service.activate(needsArgument(), actor); break
      case 'shadow': entry = await service.shadow(needsArgument(), actor); break
      case 'unshadow': entry = await service.unshadow(needsArgument(), actor); break
      case 'rollback': entry = await service.rollback(actor); break
      case 'upload': entry = await service.upload(needsArgument(), actor); break
      default: throw usageError(`unknown command '${command}'`)
    }
    process.stdout.write(entry === null ? `nothing to do: ${command} ${argument ?? ''} is already in effect\n` : `${formatEntry(entry)}\nwritten to ${deploymentFile}\n`)
  } finally {
    await service.close()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${isRiskError(error) ? error.message : error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.exitCode = isRiskError(error) ? 2 : 1
})
