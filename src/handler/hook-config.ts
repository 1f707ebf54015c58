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
 * environment: they change only when the stack is deployed. Settings are
 * taken only when they are the runtime's own (`refusal`).
 */
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { GetParameterCommand, GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { ActionTable } from './action-table';
import { clientOptions } from './client-options';
import { GroupTag, HookSettings, NAME, parseHookSettings, RUNTIME_ENVIRONMENT } from './hook-settings';

export { EVENT_KEY, HOOK_KEY, parseHookSettings, RUNTIME_ENVIRONMENT } from './hook-settings';
export type { GroupTag, HookSettings } from './hook-settings';

const ssm = new SSMClient(clientOptions());
const autoScaling = new AutoScalingClient(clientOptions());

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
  /** The group's name, from the settings or found by the group's tag. */
  readonly groupName: string;
  /** The hook's records in the runtime's table. */
  readonly actionTable: ActionTable;
  readonly registrationWaitArn?: string;
  readonly passPeriodSeconds: number;
}

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
export function hookConfig(settings: HookSettings & { readonly groupName: string }, runtime: RuntimeSettings): HookConfig {
  return {
    ...settings,
    // Each hook's records are kept apart in the shared table, by its document's name (unique in the runtime).
    actionTable: { name: runtime.actionTableName, hook: settings.documentName },
    ...(runtime.registrationWaitArn ? { registrationWaitArn: runtime.registrationWaitArn } : {}),
    passPeriodSeconds: runtime.passPeriodSeconds,
  };
}

/**
 * Whether settings are this runtime's: the hook's document bears the runtime's
 * prefix, and its role lies under the runtime's role path. Only the runtime's
 * rules may invoke the function, so a wrapper of another origin cannot
 * arrive; this keeps the function from acting for anything else all the same.
 * @returns undefined when they are, or why not
 */
export function refusal(runtime: RuntimeSettings, settings: HookSettings): string | undefined {
  if (!settings.documentName.startsWith(`${runtime.namePrefix}-`)) return 'hook settings name a document of another runtime';
  if (!settings.roleArn?.includes(`:role/cdk-lifecycle-command-hook/${runtime.namePrefix}/`)) return 'hook settings name no role of this runtime';
  return undefined;
}

/** How long settings read from Parameter Store are used before they are read again. */
export const SETTINGS_TTL_MS = 300_000;

const known = new Map<string, { readonly settings: HookSettings; readonly readAt: number }>();


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
    return keep(runtime, got.Parameter?.Name, got.Parameter?.Value);
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
      const settings = keep(runtime, parameter.Name, parameter.Value);
      if (settings) all.push(settings);
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return all;
}

function keep(runtime: RuntimeSettings, name: string | undefined, value: string | undefined): HookSettings | undefined {
  let parsed: HookSettings | string;
  try {
    parsed = parseHookSettings(JSON.parse(value ?? ''));
  } catch {
    parsed = 'hook settings are not JSON';
  }
  if (typeof parsed !== 'string') parsed = refusal(runtime, parsed) ?? parsed;
  if (typeof parsed === 'string') {
    console.error({ message: 'a hook\'s parameter holds unusable settings; that hook is not served', parameter: name, reason: parsed });
    return undefined;
  }
  known.set(parsed.documentName, { settings: parsed, readAt: Date.now() });
  return parsed;
}

/** The hook's own settings within its configuration, as a registration check carries them on. */
export function settingsOf(config: HookConfig): HookSettings {
  return {
    groupName: config.groupName,
    ...(config.groupTag !== undefined ? { groupTag: config.groupTag } : {}),
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

const groupsByTag = new Map<string, { readonly names: readonly string[]; readonly readAt: number }>();

/**
 * The groups that carry a hook's tag: normally one, two while CloudFormation
 * replaces the group (the old one drains while the new one launches). Kept for
 * a few minutes per environment.
 */
export async function groupsOfTag(tag: GroupTag, fresh = false): Promise<readonly string[]> {
  const key = `${tag.key}=${tag.value}`;
  const kept = groupsByTag.get(key);
  if (!fresh && kept && Date.now() - kept.readAt < SETTINGS_TTL_MS) return kept.names;
  const names = (await groupsWithTags([tag])).get(key) ?? [];
  groupsByTag.set(key, { names, readAt: Date.now() });
  return names;
}

/**
 * Whether the group carries the hook's tag: by the groups kept, and once more
 * from Auto Scaling when they lack it, for a group created since they were
 * read (CloudFormation's replacement of the group launches its first
 * instances within minutes of the old group's last events).
 */
export async function carriesTag(tag: GroupTag, groupName: string): Promise<boolean> {
  const readBefore = groupsByTag.get(`${tag.key}=${tag.value}`)?.readAt;
  if ((await groupsOfTag(tag)).includes(groupName)) return true;
  // Read again only if the groups came from an earlier read.
  const readNow = groupsByTag.get(`${tag.key}=${tag.value}`)?.readAt;
  return readNow === readBefore && (await groupsOfTag(tag, true)).includes(groupName);
}

/**
 * The settings with their group's name: as they say, or, for a group of the
 * same app, the group that carries the hook's tag; of two (a replacement),
 * the instance's own group (one DescribeAutoScalingInstances).
 * @returns undefined when no group carries the tag (the group was deleted)
 */
export async function withGroupName(
  settings: HookSettings, instanceId?: string,
): Promise<(HookSettings & { readonly groupName: string }) | undefined> {
  if (settings.groupName !== undefined) return { ...settings, groupName: settings.groupName };
  const names = await groupsOfTag(settings.groupTag!);
  let name = names.length === 1 ? names[0] : undefined;
  if (names.length > 1 && instanceId) {
    const described = await autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }));
    const own = described.AutoScalingInstances?.[0]?.AutoScalingGroupName;
    name = own !== undefined && names.includes(own) ? own : undefined;
  }
  return name === undefined ? undefined : { ...settings, groupName: name };
}

/** Every group that carries each of these tags, by `key=value`: DescribeAutoScalingGroups filtered by the tags' keys, 100 groups a page. */
export async function groupsWithTags(tags: readonly GroupTag[]): Promise<Map<string, string[]>> {
  const wanted = new Set(tags.map((t) => `${t.key}=${t.value}`));
  const found = new Map<string, string[]>();
  if (wanted.size === 0) return found;
  let token: string | undefined;
  do {
    const page = await autoScaling.send(new DescribeAutoScalingGroupsCommand({
      Filters: [{ Name: 'tag-key', Values: [...new Set(tags.map((t) => t.key))] }],
      MaxRecords: 100,
      NextToken: token,
    }));
    for (const group of page.AutoScalingGroups ?? []) {
      for (const t of group.Tags ?? []) {
        const key = `${t.Key}=${t.Value}`;
        if (!wanted.has(key) || !group.AutoScalingGroupName) continue;
        found.set(key, [...(found.get(key) ?? []), group.AutoScalingGroupName]);
      }
    }
    token = page.NextToken;
  } while (token);
  return found;
}
