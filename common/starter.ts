/**
 * Starting and feeding downtime workflows: shared by the detection activity and the API's
 * manual downtimes. Node-side only (imports the Temporal client).
 */
import { Client, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { openingState, scopeLabel } from '../domain';
import { DowntimeInput, Evidence, SA, actorFacts, downtimeWorkflowId, evidenceSignal } from './definitions';

/**
 * The attributes ops filter by in the Web UI, as the workflow will publish them once it runs:
 * the start sets them, so the actor's first task has nothing to upsert.
 */
export function downtimeSearchAttributes(input: DowntimeInput, now = Date.now()): TypedSearchAttributes {
  const scheduled = input.carried === undefined && input.startsAt !== undefined && input.startsAt > now;
  const severity = input.carried?.severity ?? openingState(actorFacts(input), Math.max(now, input.openedAt)).state.severity;
  const pairs = [
    { key: SA.scope, value: input.scopeKey },
    { key: SA.state, value: scheduled ? 'scheduled' : 'open' },
    { key: SA.severity, value: severity },
  ];
  // One attribute per dimension ops filter by; a scope's type or a configured attribute is in DowntimeScope's key.
  for (const dimension of ['mode', 'method', 'gateway', 'issuer', 'network', 'psp', 'aggregator'] as const) {
    const value = input.scope[dimension];
    if (value !== undefined) pairs.push({ key: SA[dimension], value });
  }
  return new TypedSearchAttributes(pairs);
}

/** What every start of a downtime workflow carries: id by scope key, reuse after close, search attributes, memo, summary. */
function startOptions(taskQueue: string, input: DowntimeInput) {
  return {
    taskQueue,
    workflowId: downtimeWorkflowId(input.scopeKey),
    args: [input] as [DowntimeInput],
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    typedSearchAttributes: downtimeSearchAttributes(input),
    memo: { downtimeId: input.downtimeId, scopeKey: input.scopeKey },
    staticSummary: `Downtime ${input.downtimeId}: ${scopeLabel(input.scope)} (${input.origin})`,
  };
}

/**
 * Starts the scope's downtime workflow, or signals the running one with the evidence.
 * The workflow id is the scope key, so a scope never has two open downtimes.
 * Returns whether a new downtime started and the id of the downtime now running.
 */
export async function startOrFeedDowntime(
  client: Client,
  taskQueue: string,
  input: DowntimeInput,
  evidence: Evidence,
): Promise<{ started: boolean; downtimeId: string; workflowId: string; runId: string }> {
  const options = startOptions(taskQueue, input);
  const workflowId = options.workflowId;
  const handle = await client.workflow.signalWithStart('downtimeWorkflow', {
    ...options,
    signal: evidenceSignal,
    signalArgs: [evidence],
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
  // The memo carries the downtime id of the run that is open now: ours when we started it.
  const description = await handle.describe();
  const runningId = description.memo?.downtimeId;
  return { started: runningId === input.downtimeId, downtimeId: String(runningId), workflowId, runId: handle.signaledRunId };
}

/** Starts a manual or planned downtime; fails with WorkflowExecutionAlreadyStartedError when the scope is already down. */
export async function startManualDowntime(client: Client, taskQueue: string, input: DowntimeInput): Promise<{ workflowId: string; runId: string }> {
  const options = startOptions(taskQueue, input);
  const handle = await client.workflow.start('downtimeWorkflow', { ...options, workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL });
  return { workflowId: options.workflowId, runId: handle.firstExecutionRunId };
}
