/**
 * Reads what the stand-in needs from the template the construct synthesizes:
 * the runtime's function (environment, timeout, memory and retry attempts),
 * its table, state machine and rules, and each hook's heartbeat timeout,
 * default result, document, rule (with the input its target gives the
 * function), parameter and role. References to resources become the names the
 * stand-in uses, as CloudFormation would resolve them to physical names.
 */
import { App, CfnElement, Duration, Stack, aws_autoscaling as autoscaling, aws_s3 as s3 } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_PROGRAM, StepAction } from './agent';
import type { DocumentContent } from './documents';
import type { TableDefinition } from './dynamodb';
import type { HookOptions, LifecycleResult, Transition } from './options';
import type { CommandDocument } from './runcommand';
import { CommandShell, LifecycleCommandHook, LifecycleStage } from '../../src';

/** Physical names of the resources, as deployed. */
export interface ResourceNames {
  readonly account: string;
  readonly region: string;
  readonly groupName: string;
  readonly hookName: string;
  readonly outputLogGroupName: string;
  readonly functionName: string;
  readonly actionTableName: string;
}

/** One hook of the runtime, as synthesized. */
export interface HookTemplate {
  readonly transition: Transition;
  readonly heartbeatTimeoutSeconds: number;
  readonly defaultResult: LifecycleResult;
  /** The hook's `NotificationMetadata`, when it has one. */
  readonly notificationMetadata?: string;
  /** The document's name (the construct names it) and its step, as the agent reads it. */
  readonly documentName: string;
  readonly document: Omit<CommandDocument, 'name'>;
  /** The hook's lifecycle rule: its pattern, its target's maximum event age and the input it gives the function. */
  readonly rule: RuleTemplate;
  /** The hook's parameter: its settings, as the function reads them. */
  readonly parameter: { readonly name: string; readonly value: string };
  /** The role the function assumes for the hook. */
  readonly roleArn: string;
  /** The hook's name (its lifecycle hook's). */
  readonly hookName?: string;
  /** Logical ids of the hook's resources: its role's, parameter's and document's; its lifecycle hook's, when it is a resource of its own. */
  readonly logicalIds?: { readonly role: string; readonly parameter: string; readonly document: string; readonly hook?: string };
}

/** A rule that targets the runtime's function. */
export interface RuleTemplate {
  /** The rule's logical id in the template. */
  readonly logicalId?: string;
  readonly pattern: Record<string, unknown>;
  /** The target's RetryPolicy MaximumEventAgeInSeconds. */
  readonly maximumEventAgeSeconds: number;
  /** The target's input: the event as it is, or transformed. */
  readonly input: (event: Record<string, unknown>) => Record<string, unknown>;
}

/** The runtime and its hooks, as synthesized in one stack. */
export interface RuntimeTemplate {
  /** The function's environment variables, resolved. */
  readonly environment: Readonly<Record<string, string>>;
  readonly functionTimeoutSeconds: number;
  readonly memoryMB: number;
  /** Lambda's asynchronous retries (the function's EventInvokeConfig). */
  readonly retryAttempts: number;
  /** The function's EventInvokeConfig MaximumEventAgeInSeconds. */
  readonly maximumEventAgeSeconds: number;
  /** The DynamoDB table the handler keeps its action records in. */
  readonly actionTable: TableDefinition;
  /** The function's ARN, as the state machines' definitions name it. */
  readonly functionArn: string;
  /** With a launch hook: the registration wait's state machine, its ARN as the function's environment names it. */
  readonly stateMachine?: { readonly arn: string; readonly type: 'STANDARD' | 'EXPRESS'; readonly definition: Record<string, any> };
  /** The period of the scheduled rule that targets the function (the reconciliation pass), seconds. */
  readonly scheduleSeconds?: number;
  /** The rules with an event pattern that target the function: each hook's, then the runtime's. */
  readonly rules: readonly RuleTemplate[];
  readonly hooks: readonly HookTemplate[];
  /** The roles the function may assume: the hooks' roles. */
  readonly roleArns: readonly string[];
  /** The function's logical id, and the scheduled rule's. */
  readonly functionLogicalId?: string;
  readonly scheduleLogicalId?: string;
}

export type Resources = Record<string, {
  Type: string;
  Properties?: Record<string, unknown>;
  DependsOn?: string | string[];
  CreationPolicy?: Record<string, any>;
  UpdatePolicy?: Record<string, any>;
}>;

const cache = new Map<string, RuntimeTemplate>();

/** The construct id of the n-th hook in the synthesized stack (0: `Hook`, then `Hook2`, ...). */
export function hookId(n: number): string {
  return n === 0 ? 'Hook' : `Hook${n + 1}`;
}

/** The construct's props for a scenario's hook on a group. */
export function hookProps(hook: HookOptions, group: autoscaling.IAutoScalingGroup, name?: string) {
  return {
    autoScalingGroup: group,
    transition: hook.transition === 'launch'
      ? autoscaling.LifecycleTransition.INSTANCE_LAUNCHING
      : autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
    ...workProps(hook, group),
    timeout: Duration.seconds(hook.timeoutSeconds),
    defaultResult: hook.defaultResult && autoscaling.DefaultResult[hook.defaultResult],
    lifecycleHookName: name,
    registrationTimeout: hook.registrationTimeoutSeconds !== undefined ? Duration.seconds(hook.registrationTimeoutSeconds) : undefined,
    shell: hook.shell === 'powershell' ? CommandShell.POWERSHELL : hook.shell === 'sh' ? CommandShell.SH : undefined,
    stages: hook.stages?.map((stage) => stage as LifecycleStage),
    retainOnFailure: hook.retainOnFailure,
    notificationMetadata: hook.notificationMetadata,
  };
}

/** What the hook runs: its commands, an existing document, or a script in S3 (a bucket imported by name). */
function workProps(hook: HookOptions, group: autoscaling.IAutoScalingGroup) {
  if (hook.document) {
    return { documentName: hook.document.name, documentVersion: hook.document.version, documentParameters: hook.document.parameters };
  }
  if (hook.script) {
    const stack = Stack.of(group);
    const id = `ScriptBucket-${hook.script.bucket}`;
    const bucket = stack.node.tryFindChild(id) as s3.IBucket | undefined ?? s3.Bucket.fromBucketName(stack, id, hook.script.bucket);
    return { scriptBucket: bucket, scriptKey: hook.script.key };
  }
  return { commands: [...(hook.commands ?? [DEFAULT_PROGRAM])] };
}

/**
 * Synthesizes one stack with the runtime and a hook per entry, each on its
 * imported group, as a user adds them, and reads what the stand-in needs.
 * @param hookNames each hook's `lifecycleHookName`
 * @param groupNames each hook's group (default: `names.groupName` for all)
 */
export function synthesizeRuntime(
  hooks: readonly HookOptions[], names: ResourceNames, hookNames: readonly string[], groupNames?: readonly string[],
): RuntimeTemplate {
  const key = JSON.stringify([hooks, names, hookNames, groupNames]);
  const cached = cache.get(key);
  if (cached) return cached;

  const app = new App();
  const stack = new Stack(app, 'StandIn', { env: { account: names.account, region: names.region } });
  // One imported group per name, as a user imports each group once: `Fleet`, then `Fleet2`, ...
  const groups = new Map<string, autoscaling.IAutoScalingGroup>();
  const groupNamed = (name: string) => {
    let group = groups.get(name);
    if (!group) {
      group = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, groups.size === 0 ? 'Fleet' : `Fleet${groups.size + 1}`, name);
      groups.set(name, group);
    }
    return group;
  };
  const constructs = hooks.map((hook, n) => new LifecycleCommandHook(stack, hookId(n),
    hookProps(hook, groupNamed(groupNames?.[n] ?? names.groupName), hookNames[n])));
  const resources = Template.fromStack(stack).toJSON().Resources as Resources;
  const result = readRuntime(stack, constructs, hooks, names, resources);
  cache.set(key, result);
  return result;
}

/**
 * Reads the runtime and its hooks from a synthesized stack: the hooks'
 * constructs, as `hooks` describe them, and the stack's resources. A hook on a
 * group of the same app has no lifecycle hook resource: its heartbeat timeout
 * and default result are read from the group's LifecycleHookSpecificationList.
 */
export function readRuntime(
  stack: Stack, constructs: readonly LifecycleCommandHook[], hooks: readonly HookOptions[], names: ResourceNames, resources: Resources,
): RuntimeTemplate {
  const [fnId, fn] = only(resources, 'AWS::Lambda::Function');
  const fnProps = fn.Properties!;
  const rawEnv = (fnProps.Environment as { Variables: Record<string, unknown> }).Variables;

  // CloudFormation's physical names: the names the construct gives, else the stand-in's.
  const refs = new Map<string, string>();
  let outputGroups = 0;
  for (const [id, r] of Object.entries(resources)) {
    const given = r.Properties?.Name;
    switch (r.Type) {
      case 'AWS::SSM::Document':
      case 'AWS::SSM::Parameter':
        refs.set(id, String(given)); break;
      case 'AWS::AutoScaling::LifecycleHook': refs.set(id, String(r.Properties!.LifecycleHookName)); break;
      case 'AWS::AutoScaling::AutoScalingGroup': refs.set(id, names.groupName); break;
      case 'AWS::Lambda::Function': refs.set(id, names.functionName); break;
      case 'AWS::Logs::LogGroup': refs.set(id, id.includes('OutputLogGroup') ? `${names.outputLogGroupName}-${++outputGroups}` : `/aws/lambda/${names.functionName}`); break;
      case 'AWS::DynamoDB::Table': refs.set(id, names.actionTableName); break;
      case 'AWS::IAM::Role': refs.set(id, `StandIn-${id}`); break;
      default: refs.set(id, id);
    }
  }
  const resolve = (value: unknown): unknown => resolveIntrinsics(value, refs, names, resources);

  const environment = resolve(rawEnv) as Record<string, unknown>;
  for (const [k, v] of Object.entries(environment)) {
    if (typeof v !== 'string') throw new Error(`environment variable ${k} did not resolve to a string: ${JSON.stringify(v)}`);
  }

  const invokeConfigs = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventInvokeConfig'
    && (r.Properties?.FunctionName as { Ref?: string } | undefined)?.Ref === fnId);
  const retryAttempts = Number(invokeConfigs[0]?.Properties?.MaximumRetryAttempts ?? 2);
  // Lambda's own limit when the function sets none: six hours.
  const maximumEventAgeSeconds = Number(invokeConfigs[0]?.Properties?.MaximumEventAgeInSeconds ?? 21_600);

  const targetsFunction = (r: Resources[string]) => (r.Properties?.Targets as Array<{ Arn: unknown }> ?? []).some((t) => JSON.stringify(t.Arn).includes(`"${fnId}"`));
  const ruleEntries = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Events::Rule' && targetsFunction(r));
  const ruleOf = (r: Resources[string], id?: string): RuleTemplate => {
    const target = (r.Properties!.Targets as Array<Record<string, any>>)[0];
    return {
      logicalId: id,
      pattern: resolve(r.Properties!.EventPattern) as Record<string, unknown>,
      // EventBridge's own limit when a target sets none: 24 hours.
      maximumEventAgeSeconds: Number(target.RetryPolicy?.MaximumEventAgeInSeconds ?? 86_400),
      input: inputOf(resolve(target) as Record<string, any>),
    };
  };
  const schedules = ruleEntries.flatMap(([, r]) => (typeof r.Properties!.ScheduleExpression === 'string' ? [rateSeconds(r.Properties!.ScheduleExpression)] : []));
  if (schedules.length > 1) throw new Error(`expected at most one scheduled rule targeting the function, found ${schedules.length}`);

  // Each hook's resources, by the logical ids of its construct's children.
  const logicalId = (hook: LifecycleCommandHook, path: string): string => {
    const child = hook.node.findAll().find((c) => c.node.path === `${hook.node.path}/${path}`);
    if (!CfnElement.isCfnElement(child)) throw new Error(`${hook.node.path}/${path} is not a CloudFormation resource`);
    return stack.getLogicalId(child);
  };
  const hookRuleIds = new Set<string>();
  const hookTemplates: HookTemplate[] = hooks.map((hook, n) => {
    const construct = constructs[n];
    const lifecycleHookId = construct.lifecycleHook ? logicalId(construct, 'Hook/Resource') : undefined;
    const hookResource = lifecycleHookId ? resources[lifecycleHookId] : specificationOf(resources, construct.lifecycleHookName);
    const docId = logicalId(construct, 'Document');
    const doc = resources[docId];
    const parameterId = logicalId(construct, 'Settings');
    const parameter = resources[parameterId];
    const ruleId = logicalId(construct, 'LifecycleActionRule/Resource');
    hookRuleIds.add(ruleId);
    const rule = resources[ruleId];
    const roleId = logicalId(construct, 'Role/Resource/Resource');
    const hookSpec = hookResource.Properties!;
    const content = resolve(doc.Properties!.Content) as {
      schemaVersion: string;
      parameters?: Record<string, { default?: string; allowedPattern?: string; interpolationType?: string }>;
      mainSteps: Array<{ action: string; name: string; inputs: { runCommand?: unknown; timeoutSeconds?: unknown } }>;
    };
    const actions: readonly StepAction[] = ['aws:runShellScript', 'aws:runPowerShellScript'];
    if (content.schemaVersion !== '2.2') throw new Error('the stand-in runs schema 2.2 Command documents');
    const shellSteps = content.mainSteps.filter((s) => actions.includes(s.action as StepAction));
    // One shell step alone: the agent model runs its lines; other steps (aws:runDocument, aws:downloadContent): documents.ts runs them all.
    const plain = content.mainSteps.length === 1 && shellSteps.length === 1;
    if (shellSteps.length > 1) throw new Error('the stand-in runs at most one shell step of a hook\'s document');
    const step = shellSteps[0] ?? content.mainSteps[0];
    const runCommand = step.inputs.runCommand ?? [];
    if (!Array.isArray(runCommand) || runCommand.some((l) => typeof l !== 'string')) throw new Error('the document\'s runCommand is not a list of strings');
    return {
      transition: hook.transition,
      heartbeatTimeoutSeconds: Number(hookSpec.HeartbeatTimeout ?? 3600),
      defaultResult: (hookSpec.DefaultResult ?? 'ABANDON') as LifecycleResult,
      ...(hookSpec.NotificationMetadata !== undefined ? { notificationMetadata: String(hookSpec.NotificationMetadata) } : {}),
      documentName: String(doc.Properties!.Name),
      document: {
        version: '1',
        stepName: step.name,
        action: (shellSteps[0]?.action ?? 'aws:runShellScript') as StepAction,
        runCommand: runCommand as string[],
        // Without a shell step, SSM's expiry still follows the document's executionTimeout parameter (an assumption, FIDELITY.md).
        timeoutSeconds: shellSteps[0] ? step.inputs.timeoutSeconds : '{{ executionTimeout }}',
        parameters: content.parameters ?? {},
        ...(plain ? {} : { content: content as DocumentContent }),
      },
      rule: ruleOf(rule, ruleId),
      parameter: { name: String(parameter.Properties!.Name), value: String(resolve(parameter.Properties!.Value)) },
      roleArn: String(resolve({ 'Fn::GetAtt': [roleId, 'Arn'] })),
      hookName: construct.lifecycleHookName,
      logicalIds: { role: roleId, parameter: parameterId, document: docId, ...(lifecycleHookId ? { hook: lifecycleHookId } : {}) },
    };
  });
  const runtimeRules = ruleEntries.filter(([id, r]) => !hookRuleIds.has(id) && r.Properties!.EventPattern !== undefined);

  const [, table] = only(resources, 'AWS::DynamoDB::Table');
  const tableProps = table.Properties as Record<string, any>;
  const actionTable: TableDefinition = {
    name: names.actionTableName,
    keySchema: tableProps.KeySchema,
    attributeDefinitions: tableProps.AttributeDefinitions,
    ttlAttribute: tableProps.TimeToLiveSpecification?.Enabled ? tableProps.TimeToLiveSpecification.AttributeName : undefined,
  };

  const machines = Object.values(resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length > 1) throw new Error(`expected at most one AWS::StepFunctions::StateMachine, found ${machines.length}`);
  const machineProps = machines[0]?.Properties as Record<string, any> | undefined;
  const stateMachine = machineProps && {
    arn: `arn:aws:states:${names.region}:${names.account}:stateMachine:${machineProps.StateMachineName}`,
    type: machineProps.StateMachineType ?? 'STANDARD',
    definition: JSON.parse(String(resolve(machineProps.DefinitionString))),
  };

  return {
    environment: environment as Record<string, string>,
    functionTimeoutSeconds: Number(fnProps.Timeout ?? 3),
    memoryMB: Number(fnProps.MemorySize ?? 128),
    retryAttempts,
    maximumEventAgeSeconds,
    actionTable,
    functionArn: String(resolve({ 'Fn::GetAtt': [fnId, 'Arn'] })),
    stateMachine,
    scheduleSeconds: schedules[0],
    rules: [...hookTemplates.map((h) => h.rule), ...runtimeRules.map(([id, r]) => ruleOf(r, id))],
    hooks: hookTemplates,
    roleArns: hookTemplates.map((h) => h.roleArn),
    functionLogicalId: fnId,
    scheduleLogicalId: ruleEntries.find(([, r]) => typeof r.Properties!.ScheduleExpression === 'string')?.[0],
  };
}

/** A hook in a group's own definition (its LifecycleHookSpecificationList), as a lifecycle hook resource's properties. */
function specificationOf(resources: Resources, hookName: string): Resources[string] {
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::AutoScaling::AutoScalingGroup') continue;
    const specs = r.Properties?.LifecycleHookSpecificationList as Array<Record<string, unknown>> | undefined ?? [];
    const spec = specs.find((s) => s.LifecycleHookName === hookName);
    if (spec) return { Type: 'AWS::AutoScaling::LifecycleHook', Properties: spec };
  }
  throw new Error(`no lifecycle hook named ${hookName} in the template`);
}

/**
 * A target's input as EventBridge gives it: the event itself, a fixed `Input`,
 * or an `InputTransformer` whose template's `<name>` placeholders take the JSON
 * of the paths its map names (`$` is the whole event, `$.a.b` a field).
 */
function inputOf(target: Record<string, any>): (event: Record<string, unknown>) => Record<string, unknown> {
  if (typeof target.Input === 'string') {
    const fixed = JSON.parse(target.Input);
    return () => fixed;
  }
  const transformer = target.InputTransformer as { InputPathsMap?: Record<string, string>; InputTemplate: string } | undefined;
  if (!transformer) return (event) => event;
  return (event) => {
    let text = transformer.InputTemplate;
    for (const [name, path] of Object.entries(transformer.InputPathsMap ?? {})) {
      if (!/^\$(\.[A-Za-z0-9_-]+)*$/.test(path)) throw new Error(`the stand-in reads input paths of plain fields only, not ${path}`);
      const value = path.split('.').slice(1).reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], event);
      text = text.split(`<${name}>`).join(JSON.stringify(value ?? null));
    }
    return JSON.parse(text);
  };
}

/** `rate(N minutes)` and friends, in seconds (the stand-in models no cron expressions). */
function rateSeconds(expression: string): number {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!m) throw new Error(`unsupported schedule expression ${expression}`);
  const unit = m[2].startsWith('minute') ? 60 : m[2].startsWith('hour') ? 3600 : 86_400;
  return Number(m[1]) * unit;
}

function only(resources: Resources, type: string): [string, Resources[string]] {
  return onlyOf(Object.entries(resources).filter(([, r]) => r.Type === type), type, 'the stack');
}

function onlyOf(found: Array<[string, Resources[string]]>, what: string, of: string): [string, Resources[string]] {
  if (found.length !== 1) throw new Error(`expected one ${what} of ${of} in the synthesized template, found ${found.length}`);
  return found[0];
}

function resolveIntrinsics(value: unknown, refs: Map<string, string>, names: ResourceNames, resources: Resources): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, refs, names, resources));
  if (typeof value !== 'object' || value === null) return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && keys[0] === 'Ref') {
    const ref = String(obj.Ref);
    const pseudo: Record<string, string> = {
      'AWS::AccountId': names.account,
      'AWS::Region': names.region,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': 'StandIn',
    };
    const resolved = pseudo[ref] ?? refs.get(ref);
    if (resolved === undefined) throw new Error(`cannot resolve Ref ${ref}`);
    return resolved;
  }
  if (keys.length === 1 && keys[0] === 'Fn::Join') {
    const [sep, parts] = obj['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => resolveIntrinsics(p, refs, names, resources)).join(sep);
  }
  if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
    const [id, attr] = obj['Fn::GetAtt'] as [string, string];
    const resource = resources[id];
    if (resource?.Type === 'AWS::IAM::Role' && attr === 'Arn') {
      return `arn:aws:iam::${names.account}:role${String(resource.Properties?.Path ?? '/')}${refs.get(id)}`;
    }
    return `arn:aws:standin:${names.region}:${names.account}:${refs.get(id) ?? id}/${attr}`;
  }
  if (keys.length === 1 && keys[0].startsWith('Fn::')) throw new Error(`unsupported intrinsic ${keys[0]}`);
  return Object.fromEntries(keys.map((k) => [k, resolveIntrinsics(obj[k], refs, names, resources)]));
}
