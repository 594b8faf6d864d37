/** Links into the Temporal Web UI: the downtime actors' list (the detection runs left out) and one downtime's own page. */
import type { Config } from './config';

const namespacePath = (config: Config) => `${config.temporal.uiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}`;

/** The workflow list filtered to downtime actors, newest first: opened as it is, the UI's list buries them under one detection run per interval. */
export function downtimesInUi(config: Config, only: 'open' | 'all' = 'all'): string {
  const query = `WorkflowType="downtimeWorkflow"${only === 'open' ? ' AND ExecutionStatus="Running"' : ''}`;
  return `${namespacePath(config)}/workflows?query=${encodeURIComponent(query)}`;
}

/** One downtime actor's page (its latest run): history, pending activities, current details. */
export function workflowInUi(config: Config, workflowId: string): string {
  return `${namespacePath(config)}/workflows/${encodeURIComponent(workflowId)}`;
}
