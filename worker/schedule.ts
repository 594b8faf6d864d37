/** The detection Schedule: fixed id, overlap policy SKIP, every DETECTION_INTERVAL. */
import { Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import { DETECTION_SCHEDULE_ID, detectionRunTimeoutMs, detectionWorkflowId } from '../common/definitions';

export async function ensureDetectionSchedule(client: Client, taskQueue: string, intervalMs: number): Promise<'created' | 'updated' | 'unchanged'> {
  const spec = { intervals: [{ every: intervalMs }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'detectionWorkflow',
    workflowId: detectionWorkflowId,
    taskQueue,
    workflowExecutionTimeout: detectionRunTimeoutMs(intervalMs),
    staticSummary: 'Detection: judge every scope from the per-route counters',
  };
  try {
    await client.schedule.create({
      scheduleId: DETECTION_SCHEDULE_ID,
      spec,
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m' },
    });
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(DETECTION_SCHEDULE_ID);
  const current = await handle.describe();
  const every = current.spec.intervals?.[0]?.every;
  const currentAction = current.action as { taskQueue?: string };
  if (every === intervalMs && currentAction.taskQueue === taskQueue) return 'unchanged';
  await handle.update((prev) => ({ ...prev, spec, action, policies: { ...prev.policies, overlap: ScheduleOverlapPolicy.SKIP } }));
  return 'updated';
}
