export { downtimeWorkflow } from './downtime';
export { detectionWorkflow } from './detection';
