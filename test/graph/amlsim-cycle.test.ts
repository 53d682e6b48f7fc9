/**
 * Account-level precision and recall of the money-flow typologies on IBM AMLSim (issue 5).
 * One file per dataset so the two run in parallel. Floors sit a little under the measured
 * figures (docs/graph.md), so a regression fails.
 */
import path from 'node:path'
import { loadConfig } from '../../core/config.js'
import { describe, expect, it } from 'vitest'
import { AMLSIM_EVALUATION_PARAMS, loadAmlSim, readAmlSim, scoreTypology } from '../../graph/amlsim.js'
import { LinkGraph } from '../../graph/link-graph.js'

const DATA_FOLDER = path.join(loadConfig().referenceDataDir, 'aml')

describe('AMLSim evaluation: cycles', () => {
  it('cycle typology on amlsim-20k-cycle (200 planted cycles)', () => {
    const run = readAmlSim(`${DATA_FOLDER}/amlsim-20k-cycle`)
    const graph = new LinkGraph(AMLSIM_EVALUATION_PARAMS.cycleTuned)
    loadAmlSim(graph, run)
    const result = graph.recompute()
    expect(result.truncatedCycleSearches).toBe(0)
    const score = scoreTypology(result.alerts, 'cycle', run.fraudAccounts)
    expect(score.precision).toBeGreaterThanOrEqual(0.95) // measured 0.981
    expect(score.recall).toBeGreaterThanOrEqual(0.10) // measured 0.112
  })
})
