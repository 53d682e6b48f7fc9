/// <reference lib="dom" />
/**
 * One case, everything needed to work it: summary and SLA, the actions the API says this
 * officer may take now (claim, comment, tick the checklist, escalate, close as dismissed /
 * restricted / STR filed), the checklist, each decision's explanation (outcome, reasons,
 * detector executions against thresholds, model scores and top contributions), the player's
 * timeline, the cluster graph, incidents and alerts, comments, evidence, the case history and
 * its STR drafts. Every change sends the version read, so a concurrent change is a 409 and the
 * page reloads to show it.
 */
import { api, ApiError, segment } from '../api-client.js'
import { badge, element, facts, formatMinor, formatTime, panel, replace, table, type Child } from '../dom.js'
import { reportError, runAction } from '../feedback.js'
import { currentOfficer, hasRole } from '../session.js'
import type { CaseRecord, CaseView, ClusterGraph, DecisionRevision, PlayerDecision, TimelineEntry, WithdrawalHistory } from '../types.js'
import { clusterUnavailable, clusterView } from './cluster-graph.js'

/** How close resolutions read to an officer. */
const RESOLUTIONS = [['DISMISSED', 'Dismiss (no suspicion)'], ['RESTRICTED', 'Restrict the account'], ['STR_FILED', 'STR filed']] as const
/** Decisions explained on the page at most (the newest). */
const MAX_DECISIONS = 5

function withdrawalOf(decisionId: string): string {
  const colon = decisionId.lastIndexOf(':')
  return colon <= 0 ? decisionId : decisionId.slice(0, colon)
}

function failed(reason: unknown): HTMLElement {
  if (reason instanceof ApiError) return element('p', { class: 'muted' }, reason.status === 404 ? 'Nothing recorded yet.' : `${reason.code}: ${reason.message}`)
  return element('p', { class: 'muted' }, `Could not load: ${reason instanceof Error ? reason.message : String(reason)}`)
}

function actionsPanel(view: CaseView): HTMLElement {
  const record = view.case
  const allowed = new Set(view.allowedActions)
  const base = `/cases/${segment(record.caseId)}`
  const controls: Child[] = []
  if (allowed.has('claim')) controls.push(element('button', { type: 'button', id: 'action-claim', onclick: () => void runAction(() => api('POST', `${base}/claim`, { expectedVersion: record.version }), `Claimed ${record.caseId}.`) }, 'Claim'))
  if (allowed.has('unclaim')) controls.push(element('button', { type: 'button', class: 'secondary', id: 'action-unclaim', onclick: () => void runAction(() => api('POST', `${base}/unclaim`, { expectedVersion: record.version }), 'Returned to the queue.') }, 'Unclaim'))
  const rows: HTMLElement[] = [element('div', { class: 'actions' }, ...controls)]

  if (allowed.has('escalate')) {
    const reason = element('input', { id: 'escalate-reason', placeholder: 'why the MLRO should look' })
    rows.push(element('div', { class: 'row' }, element('label', {}, 'Escalation reason', reason),
      element('button', { type: 'button', id: 'action-escalate', onclick: () => {
        if (reason.value.trim() === '') return void reason.focus()
        void runAction(() => api('POST', `${base}/escalate`, { expectedVersion: record.version, reason: reason.value.trim() }), 'Escalated to the MLRO.')
      } }, 'Escalate')))
  }
  if (allowed.has('close')) {
    const resolution = element('select', { id: 'close-resolution' }, ...RESOLUTIONS.map(([value, label]) => element('option', { value }, label)))
    const reason = element('input', { id: 'close-reason', placeholder: 'what was found' })
    const unticked = record.checklist.filter((item) => item.tickedBy === null).length
    const override = element('input', { id: 'close-override', placeholder: `${unticked} checklist item(s) unticked: why close anyway` })
    rows.push(element('div', { class: 'row' },
      element('label', {}, 'Resolution', resolution),
      element('label', {}, 'Reason', reason),
      unticked > 0 ? element('label', {}, 'Checklist override', override) : null,
      element('button', { type: 'button', id: 'action-close', onclick: () => {
        if (reason.value.trim() === '') return void reason.focus()
        const body: Record<string, unknown> = { expectedVersion: record.version, resolution: resolution.value, reason: reason.value.trim() }
        if (unticked > 0 && override.value.trim() !== '') body.checklistOverrideReason = override.value.trim()
        void runAction(() => api('POST', `${base}/close`, body), `Closed ${record.caseId}.`)
      } }, 'Close case')))
  }
  if (allowed.has('comment')) {
    const text = element('textarea', { id: 'comment-text', placeholder: 'a note for the file' })
    rows.push(element('div', {}, element('label', {}, 'Comment', text),
      element('div', { class: 'actions' }, element('button', { type: 'button', id: 'action-comment', onclick: () => {
        if (text.value.trim() === '') return void text.focus()
        void runAction(() => api('POST', `${base}/comments`, { text: text.value.trim() }), 'Comment added.')
      } }, 'Add comment'))))
  }
  if (allowed.has('addEvidence')) {
    const kind = element('select', { id: 'evidence-kind' }, ...['decision', 'event', 'note'].map((value) => element('option', { value }, value)))
    const reference = element('input', { id: 'evidence-reference', placeholder: 'wd-7:1, an event id or a note' })
    rows.push(element('div', { class: 'row' }, element('label', {}, 'Evidence', kind), element('label', {}, 'Reference', reference),
      element('button', { type: 'button', class: 'secondary', onclick: () => {
        if (reference.value.trim() === '') return void reference.focus()
        void runAction(() => api('POST', `${base}/evidence`, { kind: kind.value, reference: reference.value.trim() }), 'Evidence attached.')
      } }, 'Attach')))
  }
  if (rows.length === 1 && controls.length === 0) rows.push(element('p', { class: 'muted' }, record.status === 'CLOSED' ? 'The case is closed.' : 'Nothing you may do on this case now.'))
  return panel('Actions', ...rows)
}

function checklistPanel(view: CaseView): HTMLElement {
  const record = view.case
  const canTick = view.allowedActions.includes('tickChecklist')
  const items = record.checklist.map((item) => element('li', { 'data-item-id': item.itemId, 'data-ticked': item.tickedBy !== null },
    item.tickedBy === null ? (canTick
      ? element('button', { type: 'button', class: 'secondary tick', onclick: () => void runAction(() => api('POST', `/cases/${segment(record.caseId)}/checklist/${segment(item.itemId)}`, { expectedVersion: record.version }), 'Checklist item ticked.') }, 'Tick')
      : element('span', { class: 'muted' }, '○'))
      : element('span', { class: 'done' }, '✓'),
    element('span', {}, item.text, element('span', { class: 'muted' }, ` — ${item.detectorId}${item.tickedBy === null ? '' : `, ticked by ${item.tickedBy} ${formatTime(item.tickedAtMs)}`}`))))
  return panel('Checklist', items.length === 0 ? element('p', { class: 'muted' }, 'No checklist.') : element('ul', { class: 'plain checklist', id: 'checklist' }, ...items))
}

function explanation(revision: DecisionRevision): HTMLElement {
  const contributions = (scores: DecisionRevision['models'][number]): HTMLElement => {
    const top = [...scores.contributions].sort((left, right) => Math.abs(right.contribution) - Math.abs(left.contribution)).slice(0, 5)
    const largest = Math.max(1e-9, ...top.map((item) => Math.abs(item.contribution)))
    return table(['Feature', 'Contribution'], top.map((item) => [item.feature, element('span', {},
      element('span', { class: `bar bar-${Math.round((Math.abs(item.contribution) / largest) * 10)}${item.contribution < 0 ? ' negative' : ''}` }), ` ${item.contribution.toFixed(3)}`)]), 'no contributions recorded')
  }
  return element('div', { class: 'decision', 'data-decision-id': revision.decisionId },
    element('h3', {}, `${revision.withdrawalId} · revision ${revision.revision} · `, badge(revision.outcome)),
    facts([
      ['Amount', formatMinor(revision.amountMinor, revision.currency)],
      ['When', formatTime(revision.eventTimeMs)],
      ['Jurisdiction / tier', `${revision.jurisdiction} / ${revision.tier}`],
      ['Rule set', revision.ruleSetVersion],
      ['Composite score', revision.compositeScore === null ? '—' : revision.compositeScore.toFixed(3)],
      ['Hard stop', revision.hardStop ?? '—'],
    ]),
    element('h4', {}, 'Reasons'),
    element('ul', {}, ...revision.reasons.map((reason) => element('li', {}, `${reason.code}${reason.detectorId === null ? '' : ` (${reason.detectorId})`}: ${reason.detail}`))),
    element('h4', {}, 'Detectors against thresholds'),
    table(['Detector', 'Status', 'Value', 'Threshold', 'Detail'], revision.executions.map((execution) => [
      `${execution.detectorId}@${execution.detectorVersion}`, badge(execution.status), execution.value ?? '—', execution.threshold ?? '—', execution.detail ?? '',
    ]), 'no detector executions recorded'),
    element('h4', {}, 'Models'),
    ...(revision.models.length === 0 ? [element('p', { class: 'muted' }, 'No model scored this decision.')] : revision.models.map((model) => element('div', {},
      element('p', {}, `${model.role}: ${model.modelId}@${model.modelVersion} score ${model.score.toFixed(3)}${model.cutoff === null ? '' : ` (cutoff ${model.cutoff})`}`),
      contributions(model)))))
}

async function decisionsPanel(record: CaseRecord): Promise<HTMLElement> {
  let withdrawals = [...new Set(record.decisionIds.map(withdrawalOf))]
  if (withdrawals.length === 0 && record.playerIds[0] !== undefined) {
    // Alerts that carried no decision id: explain the player's latest decisions instead.
    const latest = await api<{ decisions: PlayerDecision[] }>('GET', `/players/${segment(record.playerIds[0])}/decisions?limit=${MAX_DECISIONS}`)
    withdrawals = [...new Set(latest.decisions.map((decision) => decision.withdrawalId))]
  }
  withdrawals = withdrawals.slice(-MAX_DECISIONS)
  const histories = await Promise.allSettled(withdrawals.map((withdrawalId) => api<WithdrawalHistory>('GET', `/decisions/${segment(withdrawalId)}`)))
  const parts = histories.map((result) => (result.status === 'fulfilled' ? element('div', {}, ...result.value.revisions.map(explanation)) : failed(result.reason)))
  return panel('Decisions and their explanations', parts.length === 0 ? element('p', { class: 'muted' }, 'No decision is linked to this case.') : element('div', { id: 'decisions' }, ...parts))
}

async function timelinePanel(record: CaseRecord): Promise<HTMLElement> {
  const body = element('div', { id: 'player-timeline' })
  const show = async (playerId: string): Promise<void> => {
    try {
      const { entries } = await api<{ entries: TimelineEntry[] }>('GET', `/players/${segment(playerId)}/timeline?limit=100`)
      replace(body, table(['When', 'Kind', 'What'], entries.map((entry) => [formatTime(entry.atMs), badge(entry.kind), entry.summary]), 'Nothing recorded for this player.'))
    } catch (error) {
      replace(body, failed(error))
    }
  }
  const players = element('select', { id: 'timeline-player', onchange: (event) => void show((event.target as HTMLSelectElement).value) }, ...record.playerIds.map((id) => element('option', { value: id }, id)))
  if (record.playerIds[0] !== undefined) await show(record.playerIds[0])
  return panel("Player's timeline", record.playerIds.length > 1 ? element('label', {}, 'Player', players) : null, body)
}

function clusterIdOf(view: CaseView): string | null {
  if (view.case.subject.kind === 'cluster') return view.case.subject.id
  return view.alerts.find((alert) => alert.clusterId !== null)?.clusterId ?? null
}

export async function renderCase(main: HTMLElement, caseId: string, stillCurrent: () => boolean): Promise<void> {
  const officer = await currentOfficer()
  const view = await api<CaseView>('GET', `/cases/${segment(caseId)}`)
  if (!stillCurrent()) return
  const record = view.case
  const clusterId = clusterIdOf(view)
  const [decisions, timeline, cluster, drafts] = await Promise.allSettled([
    decisionsPanel(record),
    timelinePanel(record),
    clusterId === null ? Promise.resolve(null) : api<ClusterGraph>('GET', `/clusters/${segment(clusterId)}`),
    api<{ drafts: Array<{ draftId: string; revision: number; status: string; createdBy: string; createdAtMs: number }> }>('GET', `/cases/${segment(caseId)}/str`),
  ])
  if (!stillCurrent()) return

  const graphPanel = panel('Cluster of linked accounts')
  let draw: (() => void) | null = null
  if (cluster.status === 'rejected') clusterUnavailable(graphPanel, cluster.reason instanceof ApiError && cluster.reason.status === 404 ? `No player is in ${clusterId} now (clusters merge and split).` : `The cluster could not be loaded: ${String((cluster.reason as Error).message)}`)
  else if (cluster.value === null) clusterUnavailable(graphPanel, 'This case is about one player with no known cluster.')
  else {
    const { view: graphView, draw: drawGraph } = clusterView(cluster.value)
    graphPanel.appendChild(graphView)
    draw = () => { drawGraph() }
  }

  const strPanel = panel('STR drafts')
  if (drafts.status === 'fulfilled') {
    strPanel.appendChild(table(['Draft', 'Status', 'Revision', 'By', 'Created'], drafts.value.drafts.map((draft) => [
      element('a', { href: `#/str/${encodeURIComponent(draft.draftId)}` }, draft.draftId), badge(draft.status), draft.revision, draft.createdBy, formatTime(draft.createdAtMs),
    ]), 'No STR drafted yet.'))
    if (hasRole(officer, 'aml_officer') || hasRole(officer, 'compliance_officer')) {
      strPanel.appendChild(element('div', { class: 'actions' }, element('button', { type: 'button', class: 'secondary', id: 'draft-str', onclick: async () => {
        try {
          const created = await api<{ draft: { draftId: string } }>('POST', `/cases/${segment(caseId)}/str`, {})
          location.hash = `#/str/${encodeURIComponent(created.draft.draftId)}`
        } catch (error) {
          reportError(error)
        }
      } }, 'Draft an STR from this case')))
    }
  } else {
    strPanel.appendChild(failed(drafts.reason))
  }

  replace(main,
    element('h1', { 'data-case-id': record.caseId, 'data-case-status': record.status, 'data-case-version': record.version }, `${record.caseId} `, badge(record.status), ' ', badge(record.priority)),
    element('div', { class: 'grid' },
      element('div', {},
        panel('Summary', facts([
          ['Subject', `${record.subject.kind} ${record.subject.id}`],
          ['Players', record.playerIds.join(', ')],
          ['Typologies', record.typologies.join(', ')],
          ['Alerts', `${record.alertCount} in ${record.incidentIds.length} incident(s), max severity ${record.maxSeverity}`],
          ['Max amount', formatMinor(record.maxAmountMinor)],
          ['Opened', formatTime(record.openedAtMs)],
          ['Due (SLA)', formatTime(record.dueAtMs)],
          ['Assignee', element('span', { id: 'case-assignee' }, record.assigneeId ?? 'unassigned')],
          ['Escalation', record.escalationReason ?? '—'],
          ['Resolution', element('span', { id: 'case-resolution' }, record.resolution === null ? '—' : `${record.resolution} by ${record.closedBy ?? '?'} ${formatTime(record.closedAtMs)}: ${record.closeReason ?? ''}`)],
          ['Version', record.version],
        ])),
        actionsPanel(view),
        checklistPanel(view),
        decisions.status === 'fulfilled' ? decisions.value : panel('Decisions and their explanations', failed(decisions.reason)),
        timeline.status === 'fulfilled' ? timeline.value : panel("Player's timeline", failed(timeline.reason))),
      element('div', {},
        graphPanel,
        panel('Incidents', table(['Incident', 'Player', 'Typology', 'Severity', 'First', 'Last', 'Alerts'], view.incidents.map((incident) => [
          incident.incidentId, incident.playerId, incident.detectorId, badge(incident.maxSeverity), formatTime(incident.firstAlertTimeMs), formatTime(incident.lastAlertTimeMs), incident.alertIds.length,
        ]))),
        panel('Alerts', table(['When', 'Detector', 'Severity', 'Value / threshold', 'Amount'], view.alerts.map((alert) => [
          formatTime(alert.eventTimeMs), alert.detectorId, badge(alert.severity), `${alert.value ?? '—'} / ${alert.threshold ?? '—'}`, formatMinor(alert.amountMinor, alert.currency ?? ''),
        ]))),
        panel('Comments', record.comments.length === 0 ? element('p', { class: 'muted' }, 'No comments.') : element('ul', { class: 'plain', id: 'comments' }, ...record.comments.map((comment) => element('li', {}, element('strong', {}, comment.authorId), ` ${formatTime(comment.atMs)}: `, comment.text)))),
        panel('Evidence', table(['Kind', 'Reference', 'By', 'When'], record.evidence.map((item) => [item.kind, item.reference, item.addedBy, formatTime(item.addedAtMs)]))),
        strPanel,
        panel('Case history', table(['When', 'Event', 'By', 'Status'], [...view.timeline].reverse().map((event) => [formatTime(event.occurredAtMs), event.type, event.actorId, event.status]))))))
  // Sigma needs its container in the document with a size: draw after the page is in place.
  draw?.()
}
