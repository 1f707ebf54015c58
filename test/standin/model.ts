/**
 * What the stand-in's services share: an instance as Auto Scaling, EC2, the
 * SSM agent and Run Command each see part of it, the errors answered on the
 * wire, the events emitted, and the wire helpers for dates and pages.
 */
import { RealDate } from './clock';
import type { AgentOptions, CommandOptions, LifecycleResult } from './options';

/** An error answered on the wire with this code and HTTP status. */
export class ApiError extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) {
    super(message);
  }
}

/**
 * Auto Scaling lifecycle states the stand-in uses ("Amazon EC2 Auto Scaling
 * instance lifecycle"; warm pools: "Use lifecycle hooks with a warm pool";
 * retention: "Manage retained instances").
 */
export type LifecycleState =
  | 'Pending' | 'Pending:Wait' | 'InService' | 'Terminating:Wait' | 'Terminated'
  | 'Warmed:Pending' | 'Warmed:Pending:Wait' | 'Warmed:Stopped'
  | 'Terminating:Retained' | 'Warmed:Pending:Retained';
export type AgentStatus = 'unregistered' | 'Online' | 'ConnectionLost';

/** How a lifecycle action ended: through the API, by its heartbeat timeout, or completed by someone else. */
export interface Completion {
  readonly result: LifecycleResult;
  /** `hook-deleted`: the hook was deleted while the action waited (DeleteLifecycleHook completes it). */
  readonly by: 'api' | 'heartbeat' | 'operator' | 'hook-deleted';
  readonly atMs: number;
  /** The Lambda invocation that completed it, for `api`. */
  readonly invocation?: string;
  /** The wait state the action was in (`Pending:Wait`, `Warmed:Pending:Wait`, `Terminating:Wait`). */
  readonly state: LifecycleState;
  /** The hook whose action it was. */
  readonly hook: string;
  /** The token of the action completed. */
  readonly token: string;
}

export interface LifecycleAction {
  readonly hook: string;
  readonly token: string;
  readonly startedAt: number;
  readonly globalDeadline: number;
  heartbeatTimer: number;
  readonly globalTimer: number;
}

export interface Instance {
  readonly index: number;
  readonly id: string;
  /** The name of the Auto Scaling group the instance belongs to. */
  readonly group: string;
  state: LifecycleState;
  /** False once the EC2 instance is stopped or gone. */
  ec2Running: boolean;
  /** False once the EC2 instance is terminated. */
  exists: boolean;
  agent: AgentStatus;
  /** Virtual ms from the start when the agent last came online. */
  agentOnlineAtMs?: number;
  /** Pending lifecycle actions, one per hook of the current transition. */
  readonly actions: LifecycleAction[];
  /** Every lifecycle action of the instance, in order. */
  readonly completions: Completion[];
  readonly commandIds: string[];
  readonly agentOptions: AgentOptions;
  readonly commandOptions: CommandOptions;
}

/** What an emitted event is about, so delivery faults can select it without parsing it. */
export interface EventMeta {
  /** `registration-check`: a launch hook's registration wait invoking the function (not an EventBridge event); `schedule`: the pass's scheduled rule. */
  readonly kind: 'lifecycle' | 'command-status' | 'command' | 'registration-check' | 'schedule';
  readonly instance?: number;
  readonly status?: string;
}

export type Emit = (event: Record<string, unknown>, meta: EventMeta) => void;

export const INSTANCE_ID = /^(i|mi)-[0-9a-f]{8,17}$/;

export function paginate<T>(list: T[], maxResults: unknown, nextToken: unknown, limit: number): { page: T[]; next?: string } {
  const max = maxResults === undefined ? limit : Number(maxResults);
  if (!(max >= 1 && max <= limit)) throw new ApiError('ValidationException', `1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${limit}`);
  const start = nextToken === undefined ? 0 : Number(nextToken);
  if (!Number.isInteger(start) || start < 0) throw new ApiError('InvalidNextToken', 'The specified token is not valid.');
  const page = list.slice(start, start + max);
  return { page, next: start + max < list.length ? String(start + max) : undefined };
}

export function asArray(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value) ? value : [];
}

/** A timestamp for the wire: the server writes epoch seconds (JSON) or ISO 8601 (XML). */
export function date(ms: number): Date {
  return new RealDate(ms);
}

export function iso(ms: number): string {
  return new RealDate(ms).toISOString();
}

/** An EventBridge event envelope, as AWS services put them on the default bus. */
export function envelope(
  rngId: string,
  source: string,
  detailType: string,
  account: string,
  region: string,
  nowMs: number,
  resources: string[],
  detail: Record<string, unknown>,
): Record<string, unknown> {
  return { 'version': '0', 'id': rngId, 'detail-type': detailType, source, account, 'time': iso(nowMs), region, resources, detail };
}
