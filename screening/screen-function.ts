/**
 * The screener as the detectors see it (detectors/detector.ts ScreenFunction): players are
 * screened against individuals only, and only the best match travels into player state.
 */
import type { ScreenFunction } from '../detectors/detector.js'
import { loadListsFromDirectory } from './directory.js'
import { buildScreener, type Screener } from './index.js'

export function toScreenFunction(screener: Screener): ScreenFunction {
  return ({ fullName, dateOfBirth, country }) => {
    const result = screener.screen({ fullName, dateOfBirth, country, types: ['individual'] })
    const best = result.matches[0]
    return {
      score: result.bestScore,
      best: best === undefined ? null : { listId: best.listId, listVersion: best.listVersion, entryId: best.entryId, matchedName: best.matchedName, dateOfBirth: best.features.dateOfBirth },
    }
  }
}

/**
 * Loads the lists of a folder (screening/directory.ts) and builds the screen function the
 * engine, the replay and the demo give their detectors; null when screening is off.
 */
export async function loadScreenFunction(listsDir: string | null): Promise<{ screen: ScreenFunction; screener: Screener } | null> {
  if (listsDir === null) return null
  const screener = buildScreener(await loadListsFromDirectory(listsDir))
  return { screen: toScreenFunction(screener), screener }
}
