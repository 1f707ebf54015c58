import { Token, aws_autoscaling as autoscaling, aws_logs as logs } from 'aws-cdk-lib';
import { CommandShell } from './command-shell';

// jsii checks every prop's type for Python, Java and Go callers; a plain
// JavaScript caller (or TypeScript through `as any`) reaches the construct with
// anything, and a number where a Duration belongs would otherwise fail deep
// inside with "timeout.toSeconds is not a function", naming no prop. These
// checks run first and name the prop, what it received and what is allowed.
// Unresolved tokens pass: their value is known only at deploy time.

/** A value of the wrong type, for an error message: its type and, when short, the value. */
export function describeValue(value: unknown): string {
  const type = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
  let text: string | undefined;
  try { text = JSON.stringify(value); } catch { text = undefined; }
  if (text === undefined || text.length > 80) return `of type ${type}`;
  return `of type ${type} (${text})`;
}

/**
 * Checks the type of every prop of `LifecycleCommandHookProps`.
 * @throws `LifecycleCommandHook: <prop> is <type and value>; <what is allowed>` for the first prop of the wrong type.
 */
export function checkPropTypes(props: unknown): void {
  if (typeof props !== 'object' || props === null || Array.isArray(props)) {
    fail('props', props, 'give an object with at least autoScalingGroup, transition, timeout, and commands (or documentName, or scriptBucket and scriptKey)');
  }
  const p = props as Record<string, unknown>;

  // Required props.
  checkObject('autoScalingGroup', p.autoScalingGroup, ['autoScalingGroupName'],
    'give an IAutoScalingGroup: an autoscaling.AutoScalingGroup of your app, or one from AutoScalingGroup.fromAutoScalingGroupName');
  checkEnum('transition', p.transition, enumValues(autoscaling.LifecycleTransition), 'autoscaling.LifecycleTransition');
  if (isSet(p.commands)) checkCommands(p.commands);
  checkDuration('timeout', p.timeout, 'Duration.minutes(5)');

  // Optional props: undefined takes the default. (jsii never passes null: the
  // other languages' runtimes leave a None or null prop out.)
  if (isSet(p.shell)) checkEnum('shell', p.shell, enumValues(CommandShell), 'CommandShell');
  if (isSet(p.stages)) checkStages(p.stages);
  if (isSet(p.defaultResult)) checkEnum('defaultResult', p.defaultResult, enumValues(autoscaling.DefaultResult), 'autoscaling.DefaultResult');
  for (const name of ['lifecycleHookName', 'workingDirectory', 'notificationMetadata', 'documentName', 'documentVersion', 'scriptKey'] as const) {
    if (isSet(p[name])) checkString(name, p[name]);
  }
  if (isSet(p.outputLogGroup)) {
    checkObject('outputLogGroup', p.outputLogGroup, ['logGroupName', 'logGroupArn'],
      'give an ILogGroup: a logs.LogGroup, or one from LogGroup.fromLogGroupName');
  }
  if (isSet(p.scriptBucket)) {
    checkObject('scriptBucket', p.scriptBucket, ['bucketName', 'bucketArn'], 'give an IBucket: an s3.Bucket, or one from Bucket.fromBucketName');
  }
  if (isSet(p.logRetention)) checkEnum('logRetention', p.logRetention, enumValues(logs.RetentionDays), 'logs.RetentionDays', 'logs.RetentionDays.ONE_MONTH');
  if (isSet(p.registrationTimeout)) checkDuration('registrationTimeout', p.registrationTimeout, 'Duration.minutes(3)');
  for (const name of ['configureInstanceRole', 'retainOnFailure', 'configureGroupRetention'] as const) {
    if (isSet(p[name]) && typeof p[name] !== 'boolean') fail(name, p[name], 'give true or false');
  }
  if (isSet(p.runtime)) {
    checkObject('runtime', p.runtime, ['namePrefix', 'hookParameterPath'],
      'give a LifecycleCommandRuntime, or leave it out for the stack\'s shared one');
  }
}

function fail(prop: string, value: unknown, allowed: string): never {
  throw new Error(`LifecycleCommandHook: ${prop} is ${describeValue(value)}; ${allowed}.`);
}

function isSet(value: unknown): boolean {
  return value !== undefined;
}

function checkObject(prop: string, value: unknown, members: string[], allowed: string) {
  if (Token.isUnresolved(value)) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(prop, value, allowed);
  const missing = members.filter((member) => typeof (value as Record<string, unknown>)[member] !== 'string');
  if (missing.length > 0) {
    throw new Error(`LifecycleCommandHook: ${prop} is an object without ${missing.map((m) => `a string ${m}`).join(' or ')}; ${allowed}.`);
  }
}

function checkDuration(prop: string, value: unknown, example: string) {
  if (Token.isUnresolved(value)) return;
  if (typeof value !== 'object' || value === null || typeof (value as { toSeconds?: unknown }).toSeconds !== 'function') {
    fail(prop, value, `give a Duration, e.g. ${example}`);
  }
}

function checkString(prop: string, value: unknown) {
  if (typeof value !== 'string') fail(prop, value, 'give a string');
}

/** The values of a TypeScript enum (a numeric enum also maps each value back to its name). */
function enumValues(enumeration: Record<string, string | number>): Array<[string, string | number]> {
  return Object.entries(enumeration).filter(([key]) => !/^\d+$/.test(key));
}

function checkEnum(prop: string, value: unknown, members: Array<[string, string | number]>, enumName: string, example?: string) {
  if (Token.isUnresolved(value)) return;
  if (members.some(([, member]) => member === value)) return;
  const allowed = members.length > 4
    ? `give a ${enumName} value, e.g. ${example ?? `${enumName}.${members[0][0]}`}`
    : `give ${members.map(([key]) => `${enumName}.${key}`).join(' or ')}`;
  fail(prop, value, allowed);
}

// The messages match the construct's own check of the commands' content.
function checkCommands(commands: unknown) {
  if (Token.isUnresolved(commands)) return;
  if (!Array.isArray(commands)) fail('commands', commands, 'give a list of shell lines, e.g. ["systemctl stop app"]');
  commands.forEach((command: unknown, index) => {
    if (typeof command !== 'string') fail(`commands[${index}]`, command, 'every command must be a string, one shell line');
  });
}

// A string that is no stage gets the construct's own message, which names the
// stages of the hook's transition.
function checkStages(stages: unknown) {
  if (Token.isUnresolved(stages)) return;
  if (!Array.isArray(stages)) fail('stages', stages, 'give a list of LifecycleStage values, e.g. [LifecycleStage.LAUNCH_INTO_GROUP]');
  stages.forEach((stage: unknown, index) => {
    if (typeof stage !== 'string') fail(`stages[${index}]`, stage, 'give a LifecycleStage, e.g. LifecycleStage.LAUNCH_INTO_GROUP');
  });
}
