/**
 * The events the handler receives, and the checks that decide whether an
 * event belongs to this hook. Pure functions: no AWS calls, no logging.
 */
import type { HookConfig } from './hook-config';

export const LAUNCH_DETAIL_TYPE = 'EC2 Instance-launch Lifecycle Action';
export const TERMINATE_DETAIL_TYPE = 'EC2 Instance-terminate Lifecycle Action';
export const INVOCATION_DETAIL_TYPE = 'EC2 Command Invocation Status-change Notification';
/** What an EventBridge rule with a schedule expression sends: here, the hook's reconciliation pass. */
export const SCHEDULED_DETAIL_TYPE = 'Scheduled Event';

/** Invocation statuses after which the command will not change again. */
export const SUCCESS_STATUS = 'Success';
export const FAILURE_STATUSES = ['Failed', 'TimedOut', 'Cancelled', 'Undeliverable', 'Terminated'] as const;
export const TERMINAL_STATUSES: readonly string[] = [SUCCESS_STATUS, ...FAILURE_STATUSES];

export type LifecycleResult = 'CONTINUE' | 'ABANDON';
export type Transition = 'launch' | 'terminate';

export type { HookConfig } from './hook-config';

/** A lifecycle action of this hook that needs its command. */
export interface LifecycleAction {
  readonly kind: 'lifecycle-action';
  readonly instanceId: string;
  readonly token: string;
  /** The Auto Scaling group the event names: kept on the action's record, the group its command's status event completes it in. */
  readonly groupName?: string;
  /** `autoscaling:EC2_INSTANCE_LAUNCHING` or `…_TERMINATING`, as the event says. */
  readonly transition: string;
  /** Where the instance comes from and goes to (`EC2`, `AutoScalingGroup`, `WarmPool`), when the event says. */
  readonly origin?: string;
  readonly destination?: string;
  /** The event's `time` (ISO 8601), from which the action's duration is measured, when the event has one. */
  readonly eventTime?: string;
  /** When the action began: the event's `time` (epoch ms), when the event says. */
  readonly startedAt?: number;
}

/** The hook's periodic reconciliation pass. */
export interface ReconciliationPass {
  readonly kind: 'reconcile';
}

/** A command of this hook's document that reached a terminal status. */
export interface InvocationResult {
  readonly kind: 'invocation-result';
  readonly instanceId: string;
  readonly commandId: string;
  readonly status: string;
}

/** An event that is not for this hook, with the reason, for one log line. */
export interface IgnoredEvent {
  readonly kind: 'ignored';
  readonly reason: string;
}

export type ClassifiedEvent = LifecycleAction | InvocationResult | ReconciliationPass | IgnoredEvent;

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
export const INSTANCE_ID_PATTERN = INSTANCE_ID;
const TOKEN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const COMMAND_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** Lifecycle transitions, origins and destinations: short names, kept in the action's record only when well formed. */
const STAGE = /^[A-Za-z0-9_:]{1,64}$/;
/** EventBridge's `time`: an RFC 3339 timestamp, kept in the action's record only when well formed. */
const EVENT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
export const TOKEN_PATTERN = TOKEN;
export const EVENT_TIME_PATTERN = EVENT_TIME;
export const STAGE_PATTERN = STAGE;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function ignored(reason: string): IgnoredEvent {
  return { kind: 'ignored', reason };
}

/**
 * Decides what an incoming event asks of this hook. Anything that does not name
 * this hook's group, hook or document, or whose ids are malformed, is ignored:
 * the handler then makes no AWS call.
 */
export function classifyEvent(event: unknown, config: HookConfig): ClassifiedEvent {
  if (!isRecord(event) || !isRecord(event.detail)) return ignored('not an EventBridge event with a detail object');
  const detailType = event['detail-type'];
  const detail = event.detail;

  // Only this hook's schedule rule sends Scheduled Events to its function.
  if (detailType === SCHEDULED_DETAIL_TYPE) {
    return event.source === 'aws.events' ? { kind: 'reconcile' } : ignored('scheduled event from an unexpected source');
  }

  if (detailType === LAUNCH_DETAIL_TYPE || detailType === TERMINATE_DETAIL_TYPE) {
    const expected = config.transition === 'launch' ? LAUNCH_DETAIL_TYPE : TERMINATE_DETAIL_TYPE;
    if (event.source !== 'aws.autoscaling') return ignored('lifecycle event from an unexpected source');
    if (detailType !== expected) return ignored(`lifecycle event for the other transition (${detailType})`);
    if (detail.AutoScalingGroupName !== config.groupName) return ignored('lifecycle event for another Auto Scaling group');
    if (detail.LifecycleHookName !== config.hookName) return ignored('lifecycle event for another lifecycle hook');
    if (typeof detail.EC2InstanceId !== 'string' || !INSTANCE_ID.test(detail.EC2InstanceId)) {
      return ignored('lifecycle event with a malformed EC2InstanceId');
    }
    if (typeof detail.LifecycleActionToken !== 'string' || !TOKEN.test(detail.LifecycleActionToken)) {
      return ignored('lifecycle event with a malformed LifecycleActionToken');
    }
    const transition = typeof detail.LifecycleTransition === 'string' && STAGE.test(detail.LifecycleTransition)
      ? detail.LifecycleTransition
      : `autoscaling:EC2_INSTANCE_${config.transition === 'launch' ? 'LAUNCHING' : 'TERMINATING'}`;
    return {
      kind: 'lifecycle-action',
      instanceId: detail.EC2InstanceId,
      token: detail.LifecycleActionToken,
      groupName: config.groupName,
      transition,
      ...(typeof detail.Origin === 'string' && STAGE.test(detail.Origin) ? { origin: detail.Origin } : {}),
      ...(typeof detail.Destination === 'string' && STAGE.test(detail.Destination) ? { destination: detail.Destination } : {}),
      ...(typeof event.time === 'string' && EVENT_TIME.test(event.time) ? { eventTime: event.time } : {}),
      ...(typeof event.time === 'string' && Number.isFinite(Date.parse(event.time)) ? { startedAt: Date.parse(event.time) } : {}),
    };
  }

  if (detailType === INVOCATION_DETAIL_TYPE) {
    if (event.source !== 'aws.ssm') return ignored('command invocation event from an unexpected source');
    if (detail['document-name'] !== config.documentName) return ignored('command invocation of another document');
    const instanceId = detail['instance-id'];
    if (typeof instanceId !== 'string' || !INSTANCE_ID.test(instanceId)) {
      return ignored('command invocation event with a malformed instance-id');
    }
    const commandId = detail['command-id'];
    if (typeof commandId !== 'string' || !COMMAND_ID.test(commandId)) {
      return ignored('command invocation event with a malformed command-id');
    }
    const status = detail.status;
    if (typeof status !== 'string' || !TERMINAL_STATUSES.includes(status)) {
      return ignored('command invocation event with a status that is not terminal');
    }
    return { kind: 'invocation-result', instanceId, commandId, status };
  }

  return ignored('unrecognized detail-type');
}

/** The lifecycle action result a finished command asks for. */
export function resultForStatus(status: string, failureResult: LifecycleResult): LifecycleResult {
  return status === SUCCESS_STATUS ? 'CONTINUE' : failureResult;
}

const COMMENT_PREFIX = 'lifecycle-action ';

/** The command comment that ties a command to its lifecycle action (SSM allows 100 characters). */
export function commentForAction(token: string): string {
  return `${COMMENT_PREFIX}${token}`;
}

/** The lifecycle action token a command's comment names, if it is one of this handler's comments. */
export function tokenOfComment(comment: string | undefined): string | undefined {
  if (!comment?.startsWith(COMMENT_PREFIX)) return undefined;
  const token = comment.slice(COMMENT_PREFIX.length);
  return TOKEN.test(token) ? token : undefined;
}

/** The key of a registration check event: the registration wait passes its execution input on as the event. */
export const REGISTRATION_CHECK_KEY = 'registrationCheck';
/** The input field the registration wait's Wait state reads its seconds from (`SecondsPath`). */
export const WAIT_SECONDS_KEY = 'waitSeconds';

/**
 * Delay before the next check of a launching instance's SSM registration:
 * doubling from 2 s, capped at 20 s.
 */
export function registrationBackoffMs(attempt: number): number {
  return Math.min(2_000 * 2 ** attempt, 20_000);
}

/** Delay before repeating a SendCommand that was throttled, i.e. refused (before jitter): 500 ms, then 1 s. */
export function throttledSendDelayMs(attempt: number): number {
  return 500 * 2 ** (attempt - 1);
}

/**
 * After a SendCommand whose answer was lost (a 5xx or a dropped connection),
 * the command may exist. ListCommands is eventually consistent (about a second
 * in practice): the handler looks for the command at these times after the
 * failure, and sends again only if the last look, well past that lag, finds none.
 */
export const LOST_ANSWER_CHECKS_MS: readonly number[] = [1_000, 3_000, 7_000, 15_000];
