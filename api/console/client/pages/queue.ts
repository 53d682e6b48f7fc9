/// <reference lib="dom" />
/**
 * The case queue: filters (status, assignee, priority) kept in the URL, cases sorted by their
 * SLA due time (the soonest first, overdue ones marked). The API pages in case-id order, so the
 * page asks for up to 1000 matching cases and sorts them here; beyond that it says so.
 */
import { api } from '../api-client.js'
import { badge, element, formatMinor, formatTime, replace, table } from '../dom.js'
import { currentOfficer } from '../session.js'
import type { CaseRecord } from '../types.js'

const STATUSES = ['OPEN', 'IN_REVIEW', 'ESCALATED', 'CLOSED'] as const
const PRIORITIES = ['LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const
const QUEUE_LIMIT = 1000

function select(name: string, options: readonly string[], selected: string | null, anyLabel: string): HTMLSelectElement {
  const control = element('select', { name, id: `filter-${name}` }, element('option', { value: '' }, anyLabel))
  for (const option of options) control.appendChild(element('option', { value: option, selected: option === selected }, option))
  return control
}

export async function renderQueue(main: HTMLElement, query: URLSearchParams, stillCurrent: () => boolean): Promise<void> {
  const officer = await currentOfficer()
  const status = query.get('status')
  const priority = query.get('priority')
  const assignee = query.get('assigneeId')
  const filter = new URLSearchParams({ limit: String(QUEUE_LIMIT) })
  if (status !== null && status !== '') filter.set('status', status)
  if (priority !== null && priority !== '') filter.set('priority', priority)
  if (assignee !== null && assignee !== '') filter.set('assigneeId', assignee)
  const { cases, next } = await api<{ cases: CaseRecord[]; next: string | null }>('GET', `/cases?${filter.toString()}`)
  if (!stillCurrent()) return

  const statusControl = select('status', STATUSES, status, 'any status')
  const priorityControl = select('priority', PRIORITIES, priority, 'any priority')
  const assigneeControl = element('input', { name: 'assigneeId', id: 'filter-assigneeId', value: assignee ?? '', placeholder: 'anyone' })
  const apply = (): void => {
    const chosen = new URLSearchParams()
    if (statusControl.value !== '') chosen.set('status', statusControl.value)
    if (priorityControl.value !== '') chosen.set('priority', priorityControl.value)
    if (assigneeControl.value.trim() !== '') chosen.set('assigneeId', assigneeControl.value.trim())
    location.hash = `#/cases?${chosen.toString()}`
  }
  const mine = (): void => {
    assigneeControl.value = officer.subject
    apply()
  }

  // The SLA decides the order: what falls due first is worked first.
  const sorted = [...cases].sort((left, right) => left.dueAtMs - right.dueAtMs || left.caseId.localeCompare(right.caseId))
  const nowMs = Date.now()
  const rows = table(['Case', 'Priority', 'Status', 'Due (SLA)', 'Subject', 'Players', 'Typologies', 'Alerts', 'Max amount', 'Assignee'], sorted.map((record) => [
    element('a', { href: `#/cases/${encodeURIComponent(record.caseId)}`, class: 'case-link', 'data-case-id': record.caseId }, record.caseId),
    badge(record.priority),
    badge(record.status),
    formatTime(record.dueAtMs),
    `${record.subject.kind} ${record.subject.id}`,
    record.playerIds.join(', '),
    record.typologies.join(', '),
    record.alertCount,
    formatMinor(record.maxAmountMinor),
    record.assigneeId ?? '—',
  ]), 'No case matches these filters.')
  sorted.forEach((record, index) => {
    const row = rows.tBodies[0]?.rows[index]
    if (row !== undefined && record.status !== 'CLOSED' && record.dueAtMs < nowMs) row.classList.add('overdue')
    row?.cells[3]?.classList.add('due')
  })

  replace(main,
    element('h1', {}, 'Case queue'),
    element('section', { class: 'panel' },
      element('div', { class: 'filters' },
        element('label', {}, 'Status', statusControl),
        element('label', {}, 'Priority', priorityControl),
        element('label', {}, 'Assignee', assigneeControl),
        element('button', { type: 'button', id: 'apply-filters', onclick: apply }, 'Filter'),
        element('button', { type: 'button', class: 'secondary', onclick: mine }, 'Mine')),
      element('p', { class: 'muted', 'data-testid': 'queue-count' }, next === null ? `${sorted.length} case(s), soonest due first.` : `Showing the first ${QUEUE_LIMIT} matching cases by id, sorted by due time: narrow the filters to see the rest.`),
      rows))
}
