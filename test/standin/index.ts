/** The offline AWS stand-in: run a scenario and inspect what happened. */
export { runScenario, bundledHandler, BUNDLED_HANDLER, NAMES, namesOf, groupNameOf } from './scenario';
export type { ScenarioResult, ScenarioSummary, InstanceReport, CommandReport, LogLine } from './scenario';
export type { ApiCall } from './server';
export type { StoreCall } from './dynamodb';
export type { InvocationRecord, DeadLetter } from './lambda';
export type { EventRecord } from './eventbridge';
export * from './options';
export type { Range } from './rng';
export { throttling, resourceContention, disappearsAfter } from './faults';
export { OPERATIONS } from './server';
export type { ExecutionRecord } from './stepfunctions';
