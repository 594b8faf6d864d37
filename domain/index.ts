/** Pure, deterministic decision logic: safe to import from Temporal workflow code. */
export * from './scope';
export * from './failures';
export * from './stats';
export * from './detection';
export * from './relapse';
export * from './probe';
export * from './bucket';
export * from './severity';
export * from './freeze';
export * from './flap';
export * from './problem';
export * from './lifecycle';
export * from './status';
export * from './actor';
export * from './channels';
export * from './incident';
