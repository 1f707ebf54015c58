/**
 * What the shared function knows of each hook it serves, and where it finds it.
 *
 * One function serves every hook of its runtime. What is the runtime's (the
 * action table, the registration wait, the pass's period, where the hooks'
 * settings are kept) comes from the function's environment. What is a hook's
 * (its group and name, its document, timeouts, result, stages and role) comes
 * with the event, or from the hook's parameter in SSM Parameter Store:
 * - a lifecycle event arrives wrapped by its hook's rule, `{ hook, event }`;
 * - a registration check carries the settings its launch event came with;
 * - a command's status event names its document, and the document names the
 *   hook's parameter (`<path>/<document name>`);
 * - the reconciliation pass reads every hook's parameter under the path.
 * Settings read from Parameter Store are kept for a few minutes per execution
 * environment: they change only when the stack is deployed.
 */
import { GetParameterCommand, GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { ActionTable } from './action-table';
import { clientOptions } from './client-options';
import type { LifecycleResult, Transition } from './events';

const ssm = new SSMClient(clientOptions());

/** A hook's own settings, as its rule and its parameter carry them (JSON). */
export interface HookSettings {
  readonly groupName: string;
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

/** What the function's environment says of the runtime. */
export interface RuntimeSettings {
  /** The DynamoDB table that holds one record per lifecycle action of every hook. */
  readonly actionTableName: string;
  /** The state machine that waits between registration checks (when the runtime serves a launch hook). */
  readonly registrationWaitArn?: string;
  /** How often the reconciliation pass runs (0: no pass). */
  readonly passPeriodSeconds: number;
  /** The Parameter Store path under which each hook's settings are kept, ending in `/`. */
  readonly hookParameterPath: string;
  /** The prefix of the names of the runtime's documents (and rules). */
  readonly namePrefix: string;
}

/** Everything the handler needs to serve one hook: its settings and the runtime's. */
export interface HookConfig extends HookSettings {
  /** The hook's records in the runtime's table. */
  readonly actionTable: ActionTable;
  readonly registrationWaitArn?: string;
  readonly passPeriodSeconds: number;
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

/**
 * Reads the runtime's settings from the function's environment.
 * @throws when a variable is missing or malformed: the function is misconfigured.
 */
export function readRuntime(env: Record<string, string | undefined>): RuntimeSettings {
  const get = (key: string): string => {
    const value = env[key];
    if (!value) throw new Error(`environment variable ${key} is not set`);
    return value;
  };
  const period = Number(env[RUNTIME_ENVIRONMENT.passPeriodSeconds] ?? '0');
  if (!Number.isInteger(period) || period < 0) {
    throw new Error(`${RUNTIME_ENVIRONMENT.passPeriodSeconds} must be a whole number of seconds, got ${env[RUNTIME_ENVIRONMENT.passPeriodSeconds]}`);
  }
  const path = get(RUNTIME_ENVIRONMENT.hookParameterPath);
  if (!path.startsWith('/') || !path.endsWith('/')) throw new Error(`${RUNTIME_ENVIRONMENT.hookParameterPath} must start and end with "/", got ${path}`);
  const waitArn = env[RUNTIME_ENVIRONMENT.registrationWaitArn];
  return {
    actionTableName: get(RUNTIME_ENVIRONMENT.actionTableName),
    ...(waitArn ? { registrationWaitArn: waitArn } : {}),
    passPeriodSeconds: period,
    hookParameterPath: path,
    namePrefix: get(RUNTIME_ENVIRONMENT.namePrefix),
  };
}

/** The configuration of one hook: its settings beside the runtime's. */
export function hookConfig(settings: HookSettings, runtime: RuntimeSettings): HookConfig {
  return {
    ...settings,
    // Each hook's records are kept apart in the shared table, by its document's name (unique in the runtime).
    actionTable: { name: runtime.actionTableName, hook: settings.documentName },
    ...(runtime.registrationWaitArn ? { registrationWaitArn: runtime.registrationWaitArn } : {}),
    passPeriodSeconds: runtime.passPeriodSeconds,
  };
}

/** Hook and document names (the construct makes them, or checks them at synth time). */
const NAME = /^[A-Za-z0-9\-_/.:]{1,255}$/;
/** Auto Scaling group names: up to 255 characters, none a control character. */
const GROUP_NAME = /^[^\u0000-\u001f]{1,255}$/;
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
  const patterns = { groupName: GROUP_NAME, hookName: NAME, documentName: NAME, outputLogGroupName: LOG_GROUP_NAME } as const;
  for (const [key, pattern] of Object.entries(patterns)) {
    const value = v[key];
    if (typeof value !== 'string' || !pattern.test(value)) return `hook settings: ${key} is missing or malformed`;
  }
  if (v.transition !== 'launch' && v.transition !== 'terminate') return 'hook settings: transition must be launch or terminate';
  if (v.failureResult !== 'CONTINUE' && v.failureResult !== 'ABANDON') return 'hook settings: failureResult must be CONTINUE or ABANDON';
  for (const key of ['registrationTimeoutSeconds', 'deliveryTimeoutSeconds', 'executionTimeoutSeconds', 'heartbeatTimeoutSeconds'] as const) {
    if (!Number.isInteger(v[key]) || (v[key] as number) < 0) return `hook settings: ${key} must be a whole number of seconds`;
  }
  if (v.stages !== undefined && typeof v.stages !== 'string') return 'hook settings: stages must be a string';
  if (v.roleArn !== undefined && (typeof v.roleArn !== 'string' || !ROLE_ARN.test(v.roleArn))) return 'hook settings: roleArn is malformed';
  return {
    groupName: v.groupName as string,
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

/** How long settings read from Parameter Store are used before they are read again. */
export const SETTINGS_TTL_MS = 300_000;

const known = new Map<string, { readonly settings: HookSettings; readonly readAt: number }>();

/** Keeps settings that came with an event, so that the hook's status events need no read. */
export function rememberSettings(settings: HookSettings): void {
  known.set(settings.documentName, { settings, readAt: Date.now() });
}

/**
 * The settings of the hook whose document this is, from its parameter (or
 * from what this environment read or was given lately).
 * @returns undefined when the runtime has no hook of that document.
 */
export async function settingsOfDocument(runtime: RuntimeSettings, documentName: string): Promise<HookSettings | undefined> {
  const kept = known.get(documentName);
  if (kept && Date.now() - kept.readAt < SETTINGS_TTL_MS) return kept.settings;
  // The runtime's documents bear its prefix: any other is no hook's of the runtime, and costs no read.
  if (!NAME.test(documentName) || !documentName.startsWith(`${runtime.namePrefix}-`)) return undefined;
  try {
    const got = await ssm.send(new GetParameterCommand({ Name: `${runtime.hookParameterPath}${documentName}` }));
    return keep(got.Parameter?.Name, got.Parameter?.Value);
  } catch (error) {
    if ((error as { name?: string }).name === 'ParameterNotFound') return undefined;
    throw error;
  }
}

/** Every hook's settings, from the parameters under the runtime's path: what the reconciliation pass serves. */
export async function allHookSettings(runtime: RuntimeSettings): Promise<HookSettings[]> {
  const all: HookSettings[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ssm.send(new GetParametersByPathCommand({ Path: runtime.hookParameterPath, Recursive: false, NextToken: nextToken }));
    for (const parameter of page.Parameters ?? []) {
      const settings = keep(parameter.Name, parameter.Value);
      if (settings) all.push(settings);
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return all;
}

function keep(name: string | undefined, value: string | undefined): HookSettings | undefined {
  let parsed: HookSettings | string;
  try {
    parsed = parseHookSettings(JSON.parse(value ?? ''));
  } catch {
    parsed = 'hook settings are not JSON';
  }
  if (typeof parsed === 'string') {
    console.error({ message: 'a hook\'s parameter holds unusable settings; that hook is not served', parameter: name, reason: parsed });
    return undefined;
  }
  rememberSettings(parsed);
  return parsed;
}

/** The hook's own settings within its configuration, as a registration check carries them on. */
export function settingsOf(config: HookConfig): HookSettings {
  return {
    groupName: config.groupName,
    hookName: config.hookName,
    documentName: config.documentName,
    transition: config.transition,
    failureResult: config.failureResult,
    outputLogGroupName: config.outputLogGroupName,
    registrationTimeoutSeconds: config.registrationTimeoutSeconds,
    deliveryTimeoutSeconds: config.deliveryTimeoutSeconds,
    executionTimeoutSeconds: config.executionTimeoutSeconds,
    heartbeatTimeoutSeconds: config.heartbeatTimeoutSeconds,
    ...(config.stages !== undefined ? { stages: config.stages } : {}),
    ...(config.roleArn !== undefined ? { roleArn: config.roleArn } : {}),
  };
}
