/// <reference lib="dom" />
/**
 * Rule-set history: every stored version newest first (who proposed it, when, on top of which
 * version, the active one marked) and the diff between two versions, by default a version
 * against the one it was proposed on (`#/rule-sets?from=A&to=B`). Readable by rules admins,
 * compliance officers and regulators; others see the API's 403 in the banner.
 */
import { api } from '../api-client.js'
import { badge, element, formatTime, panel, replace, table, type Child } from '../dom.js'
import type { DetectorChange, FieldChange, RuleSetDiff, RuleSetSummary } from '../types.js'

const show = (value: unknown): string => (value === undefined ? '—' : JSON.stringify(value))

function fieldRows(fields: readonly FieldChange[]): HTMLTableElement {
  return table(['Field', 'From', 'To'], fields.map((field) => [field.field, show(field.from), show(field.to)]), 'no field changed')
}

function detectorList(changes: readonly DetectorChange[]): Child {
  if (changes.length === 0) return element('p', { class: 'muted' }, 'No detector changed.')
  return element('div', {}, ...changes.map((change) => element('div', { 'data-detector-id': change.detectorId },
    element('h4', { class: `change-${change.change}` }, `${change.change}: ${change.detectorId}`),
    change.fields.length === 0 ? null : fieldRows(change.fields))))
}

function diffView(diff: RuleSetDiff): HTMLElement {
  return panel(`Diff ${diff.from.version} → ${diff.to.version}`,
    diff.identical ? element('p', { class: 'muted' }, 'The two versions decide the same way.') : null,
    element('h3', {}, 'Detectors'), detectorList(diff.detectors),
    element('h3', {}, 'Jurisdiction and tier overrides'),
    diff.overrides.length === 0 ? element('p', { class: 'muted' }, 'No override changed.') : element('div', {}, ...diff.overrides.map((override) => element('div', {},
      element('h4', { class: `change-${override.change}` }, `${override.change}: ${Object.entries(override.match).map(([key, value]) => `${key}=${value}`).join(', ')} (#${override.occurrence})`),
      detectorList(override.detectors), override.decision.length === 0 ? null : fieldRows(override.decision)))),
    element('h3', {}, 'Decision policy'), fieldRows(diff.decision))
}

export async function renderRuleSets(main: HTMLElement, query: URLSearchParams, stillCurrent: () => boolean): Promise<void> {
  const listing = await api<{ active: { version: string; contentHash: string; stored: boolean } | null; versions: RuleSetSummary[] }>('GET', '/rule-sets')
  const versions = [...listing.versions].sort((left, right) => (right.createdAtMs ?? 0) - (left.createdAtMs ?? 0) || right.version.localeCompare(left.version))
  const from = query.get('from')
  const to = query.get('to')
  const diff = from !== null && to !== null ? await api<RuleSetDiff>('GET', `/rule-sets/diff?${new URLSearchParams({ from, to }).toString()}`) : null
  if (!stillCurrent()) return

  const known = new Set(versions.map((version) => version.version))
  const history = table(['Version', '', 'Author', 'Created', 'Proposed on', 'Description', 'Content hash', 'Diff'], versions.map((version) => [
    version.version,
    listing.active?.version === version.version ? badge('active') : '',
    version.author ?? '—',
    formatTime(version.createdAtMs),
    version.previousVersion ?? '—',
    version.description ?? '',
    element('code', {}, version.contentHash.slice(0, 19)),
    version.previousVersion !== null && known.has(version.previousVersion)
      ? element('a', { href: `#/rule-sets?${new URLSearchParams({ from: version.previousVersion, to: version.version }).toString()}`, class: 'diff-link' }, `vs ${version.previousVersion}`)
      : '—',
  ]), 'No version stored yet.')

  const option = (version: RuleSetSummary, selected: string | null) => element('option', { value: version.version, selected: version.version === selected }, version.version)
  const fromControl = element('select', { id: 'diff-from' }, ...versions.map((version) => option(version, from)))
  const toControl = element('select', { id: 'diff-to' }, ...versions.map((version) => option(version, to)))
  replace(main,
    element('h1', {}, 'Rule sets'),
    panel('History', element('p', { class: 'muted' }, `Active: ${listing.active === null ? 'none' : `${listing.active.version}${listing.active.stored ? '' : ' (not among the stored versions)'}`}`), history),
    panel('Compare two versions', element('div', { class: 'row' }, element('label', {}, 'From', fromControl), element('label', {}, 'To', toControl),
      element('button', { type: 'button', id: 'show-diff', onclick: () => { location.hash = `#/rule-sets?${new URLSearchParams({ from: fromControl.value, to: toControl.value }).toString()}` } }, 'Show diff'))),
    diff === null ? null : diffView(diff))
}
