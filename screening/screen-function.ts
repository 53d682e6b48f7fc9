/**
 * The screener as the detectors see it (detectors/detector.ts ScreenFunction): players are
 * screened against individuals only, and only the best match travels into player state.
 *
 * Entries an officer dismissed for the player (`exclude`, `listId:entryId`) are skipped: the
 * screener returns its matches sorted best first, so the answer is the first one not excluded.
 * The screener keeps at most `maxMatches` (10) matches per query, so a player with ten or more
 * dismissed entries above the threshold for one name could miss an eleventh; and it keeps no
 * scores under its threshold, so when every match was excluded the score answered is 0.
 *
 * Example:
 *   const screen = toScreenFunction(buildScreener(lists))
 *   screen({ fullName: 'Saddam Hussein', dateOfBirth: '1937-04-28', country: 'IQ' }).best?.entryId             // '7843' (SDN)
 *   screen({ fullName: 'Saddam Hussein', dateOfBirth: '1937-04-28', country: 'IQ', exclude: new Set(['ofac-sdn:7843']) })
 *   // -> the next best entry (UN's record of the same man), excludedMatches 1
 */
import { listEntryKey, type ScreenFunction } from '../detectors/detector.js'
import { loadListsFromDirectory } from './directory.js'
import { buildScreener, type Screener } from './index.js'

export function toScreenFunction(screener: Screener): ScreenFunction {
  // The last query's result: both sanctions detectors (potential and confirmed) screen the same
  // profile on the same event, one after the other, and the screener is deterministic, so the
  // second asks again for nothing (screening was the largest share of the engine's profile).
  let lastKey: string | null = null
  let lastResult: ReturnType<Screener['screen']> | null = null
  return ({ fullName, dateOfBirth, country, exclude }) => {
    const key = JSON.stringify([fullName, dateOfBirth, country])
    const result = key === lastKey && lastResult !== null ? lastResult : screener.screen({ fullName, dateOfBirth, country, types: ['individual'] })
    lastKey = key
    lastResult = result
    if (exclude === undefined || exclude.size === 0) {
      const best = result.matches[0]
      return {
        score: result.bestScore,
        best: best === undefined ? null : { listId: best.listId, listVersion: best.listVersion, entryId: best.entryId, matchedName: best.matchedName, dateOfBirth: best.features.dateOfBirth },
      }
    }
    let excludedMatches = 0
    for (const match of result.matches) {
      if (exclude.has(listEntryKey(match.listId, match.entryId))) {
        excludedMatches += 1
        continue
      }
      return {
        score: match.score,
        best: { listId: match.listId, listVersion: match.listVersion, entryId: match.entryId, matchedName: match.matchedName, dateOfBirth: match.features.dateOfBirth },
        excludedMatches,
      }
    }
    // Nothing at or above the threshold remains. Without exclusions the overall best score is
    // the remaining best; with some, it may be an excluded entry's, so it cannot be answered.
    return { score: excludedMatches === 0 ? result.bestScore : 0, best: null, excludedMatches }
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
