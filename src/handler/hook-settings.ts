/**
 * A hook's settings as they travel: in its parameter, in its rule's wrapper
 * around a lifecycle event, in a registration check. Shared by the construct
 * that writes them and the handler that reads them; no AWS calls here, so the
 * construct can import it at synth time.
 */
import type { LifecycleResult, Transition } from './events';

/** A hook's own settings, as its rule and its parameter carry them (JSON). */
/** A tag that marks the group a hook serves. */
export interface GroupTag {
  readonly key: string;
  readonly value: string;
}

export interface HookSettings {
  /**
   * The group's name. Absent for a group of the same app, whose name the hook
   * must not refer to (the group waits for the hook's resources): its
   * lifecycle events bring the name, and `groupTag` finds it otherwise.
   */
  readonly groupName?: string;
  /** A group of the same app: the tag the construct places on it (and its instances). */
  readonly groupTag?: GroupTag;
  readonly hookName: string;
  readonly documentName: string;
  readonly transition: Transition;
  readonly failureResult: LifecycleResult;
  readonly outputLogGroupName: string;
  /** Longest the handler waits for a launching instance to register with SSM (0 for terminate hooks). */
  readonly registrationTimeoutSeconds: number;
  /** SendCommand's delivery timeout. */
  readonly deliveryTimeoutSeconds: number;
  /** How long the commands may run: the document's `executionTimeout` parameter. */
  readonly executionTimeoutSeconds: number;
  /** The hook's heartbeat timeout: the pass heartbeats an action before it runs out. */
  readonly heartbeatTimeoutSeconds: number;
  /** The stages whose events run the commands, comma-separated; every stage when absent. */
  readonly stages?: string;
  /** The role the function assumes for this hook's sends and completions; its own role when absent. */
  readonly roleArn?: string;
}

/** The environment variable names the construct sets and the handler reads. */
export const RUNTIME_ENVIRONMENT = {
  actionTableName: 'RUNTIME_ACTION_TABLE',
  registrationWaitArn: 'RUNTIME_REGISTRATION_WAIT',
  passPeriodSeconds: 'RUNTIME_PASS_PERIOD_SECONDS',
  hookParameterPath: 'RUNTIME_HOOK_PARAMETERS',
  namePrefix: 'RUNTIME_NAME_PREFIX',
} as const;

/** The key under which a hook's rule wraps a lifecycle event, and a registration check carries the settings. */
export const HOOK_KEY = 'hook';
export const EVENT_KEY = 'event';

/** Hook and document names (the construct makes them, or checks them at synth time). */
export const NAME = /^[A-Za-z0-9\-_/.:]{1,255}$/;
/** Auto Scaling group names: up to 255 characters, none a control character. */
const GROUP_NAME = /^[^\u0000-\u001f]{1,255}$/;
/** Tag keys and values the construct writes: letters, digits and `-_.:/=+@ `, at most 128 characters. */
const TAG = /^[\w\-.:/=+@ ]{1,128}$/;
/** CloudWatch Logs group names: up to 512 of letters, digits, `.-_/#`. */
const LOG_GROUP_NAME = /^[.\-_/#A-Za-z0-9]{1,512}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\-/]{1,512}$/;

/**
 * A hook's settings, checked: what a rule, a check or a parameter carries is
 * taken only when every field is well formed.
 * @returns the settings, or a reason they are refused.
 */
export function parseHookSettings(value: unknown): HookSettings | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'hook settings are not an object';
  const v = value as Record<string, unknown>;
  const patterns = { hookName: NAME, documentName: NAME, outputLogGroupName: LOG_GROUP_NAME } as const;
  for (const [key, pattern] of Object.entries(patterns)) {
    const field = v[key];
    if (typeof field !== 'string' || !pattern.test(field)) return `hook settings: ${key} is missing or malformed`;
  }
  if (v.groupName !== undefined && (typeof v.groupName !== 'string' || !GROUP_NAME.test(v.groupName))) return 'hook settings: groupName is malformed';
  const tag = v.groupTag as Record<string, unknown> | undefined;
  if (tag !== undefined && (typeof tag !== 'object' || tag === null || typeof tag.key !== 'string' || typeof tag.value !== 'string'
    || !TAG.test(tag.key) || !TAG.test(tag.value))) return 'hook settings: groupTag is malformed';
  if (v.groupName === undefined && tag === undefined) return 'hook settings name neither a group nor its tag';
  if (v.transition !== 'launch' && v.transition !== 'terminate') return 'hook settings: transition must be launch or terminate';
  if (v.failureResult !== 'CONTINUE' && v.failureResult !== 'ABANDON') return 'hook settings: failureResult must be CONTINUE or ABANDON';
  for (const key of ['registrationTimeoutSeconds', 'deliveryTimeoutSeconds', 'executionTimeoutSeconds', 'heartbeatTimeoutSeconds'] as const) {
    if (!Number.isInteger(v[key]) || (v[key] as number) < 0) return `hook settings: ${key} must be a whole number of seconds`;
  }
  if (v.stages !== undefined && typeof v.stages !== 'string') return 'hook settings: stages must be a string';
  if (v.roleArn !== undefined && (typeof v.roleArn !== 'string' || !ROLE_ARN.test(v.roleArn))) return 'hook settings: roleArn is malformed';
  return {
    ...(typeof v.groupName === 'string' ? { groupName: v.groupName } : {}),
    ...(tag !== undefined ? { groupTag: { key: tag.key as string, value: tag.value as string } } : {}),
    hookName: v.hookName as string,
    documentName: v.documentName as string,
    transition: v.transition,
    failureResult: v.failureResult,
    outputLogGroupName: v.outputLogGroupName as string,
    registrationTimeoutSeconds: v.registrationTimeoutSeconds as number,
    deliveryTimeoutSeconds: v.deliveryTimeoutSeconds as number,
    executionTimeoutSeconds: v.executionTimeoutSeconds as number,
    heartbeatTimeoutSeconds: v.heartbeatTimeoutSeconds as number,
    ...(typeof v.stages === 'string' ? { stages: v.stages } : {}),
    ...(typeof v.roleArn === 'string' ? { roleArn: v.roleArn } : {}),
  };
}

