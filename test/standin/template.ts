/**
 * Reads what the stand-in needs from the template the construct synthesizes:
 * the function's environment, timeout, memory and retry attempts, the hook's
 * heartbeat timeout and default result, the document's execution timeout and
 * the rules' event patterns. References to resources become the names the
 * stand-in uses, as CloudFormation would resolve them to physical names.
 */
import { App, Duration, Stack, aws_autoscaling as autoscaling } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_PROGRAM, StepAction } from './agent';
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
  readonly documentName: string;
  readonly outputLogGroupName: string;
  readonly functionName: string;
  readonly actionTableName: string;
}

export interface HookTemplate {
  readonly transition: Transition;
  /** The function's environment variables, resolved. */
  readonly environment: Readonly<Record<string, string>>;
  readonly functionTimeoutSeconds: number;
  readonly memoryMB: number;
  /** Lambda's asynchronous retries (the function's EventInvokeConfig). */
  readonly retryAttempts: number;
  readonly heartbeatTimeoutSeconds: number;
  readonly defaultResult: LifecycleResult;
  /** The document's step, as the agent reads it. */
  readonly document: Omit<CommandDocument, 'name'>;
  /** The function's EventInvokeConfig MaximumEventAgeInSeconds. */
  readonly maximumEventAgeSeconds: number;
  /** The rule target's RetryPolicy MaximumEventAgeInSeconds. */
  readonly targetMaximumEventAgeSeconds: number;
  /** The event patterns of the rules that target the function, resolved. */
  readonly eventPatterns: ReadonlyArray<Record<string, unknown>>;
  /** The DynamoDB table the handler keeps its action records in. */
  readonly actionTable?: TableDefinition;
  /** The function's ARN, as the state machines' definitions name it. */
  readonly functionArn: string;
  /** Launch hooks: the registration wait's state machine, its ARN as the function's environment names it. */
  readonly stateMachine?: { readonly arn: string; readonly type: 'STANDARD' | 'EXPRESS'; readonly definition: Record<string, any> };
  /** The period of a scheduled rule that targets the function (the reconciliation pass), seconds. */
  readonly scheduleSeconds?: number;
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

const cache = new Map<string, HookTemplate>();

export function synthesizeHook(hook: HookOptions, names: ResourceNames): HookTemplate {
  const key = JSON.stringify([hook, names]);
  const cached = cache.get(key);
  if (cached) return cached;

  const app = new App();
  const stack = new Stack(app, 'StandIn', { env: { account: names.account, region: names.region } });
  const group = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Fleet', names.groupName);
  new LifecycleCommandHook(stack, 'Hook', {
    autoScalingGroup: group,
    transition: hook.transition === 'launch'
      ? autoscaling.LifecycleTransition.INSTANCE_LAUNCHING
      : autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
    commands: [...(hook.commands ?? [DEFAULT_PROGRAM])],
    timeout: Duration.seconds(hook.timeoutSeconds),
    defaultResult: hook.defaultResult && autoscaling.DefaultResult[hook.defaultResult],
    lifecycleHookName: names.hookName,
    registrationTimeout: hook.registrationTimeoutSeconds !== undefined ? Duration.seconds(hook.registrationTimeoutSeconds) : undefined,
    shell: hook.shell === 'powershell' ? CommandShell.POWERSHELL : hook.shell === 'sh' ? CommandShell.SH : undefined,
    stages: hook.stages?.map((stage) => stage as LifecycleStage),
  });
  const resources = Template.fromStack(stack).toJSON().Resources as Resources;

  const [fnId, fn] = only(resources, 'AWS::Lambda::Function', (r) => hasHookEnvironment(r.Properties));
  const fnProps = fn.Properties!;
  const rawEnv = (fnProps.Environment as { Variables: Record<string, unknown> }).Variables;
  const outputRef = (rawEnv.HOOK_OUTPUT_LOG_GROUP as { Ref?: string } | undefined)?.Ref;

  const refs = new Map<string, string>();
  for (const [id, r] of Object.entries(resources)) {
    switch (r.Type) {
      case 'AWS::SSM::Document': refs.set(id, names.documentName); break;
      case 'AWS::AutoScaling::LifecycleHook': refs.set(id, names.hookName); break;
      case 'AWS::Lambda::Function': refs.set(id, id === fnId ? names.functionName : id); break;
      case 'AWS::Logs::LogGroup': refs.set(id, id === outputRef ? names.outputLogGroupName : `/aws/lambda/${names.functionName}`); break;
      case 'AWS::DynamoDB::Table': refs.set(id, names.actionTableName); break;
      default: refs.set(id, id);
    }
  }
  const resolve = (value: unknown): unknown => resolveIntrinsics(value, refs, names);

  const environment = resolve(rawEnv) as Record<string, unknown>;
  for (const [k, v] of Object.entries(environment)) {
    if (typeof v !== 'string') throw new Error(`environment variable ${k} did not resolve to a string: ${JSON.stringify(v)}`);
  }

  const invokeConfigs = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::EventInvokeConfig'
    && (r.Properties?.FunctionName as { Ref?: string } | undefined)?.Ref === fnId);
  const retryAttempts = Number(invokeConfigs[0]?.Properties?.MaximumRetryAttempts ?? 2);
  // Lambda's own limit when the function sets none: six hours.
  const maximumEventAgeSeconds = Number(invokeConfigs[0]?.Properties?.MaximumEventAgeInSeconds ?? 21_600);

  const [, hookResource] = only(resources, 'AWS::AutoScaling::LifecycleHook');
  const hookProps = hookResource.Properties!;

  const [, doc] = only(resources, 'AWS::SSM::Document');
  const content = doc.Properties!.Content as {
    schemaVersion: string;
    parameters?: Record<string, { default?: string; allowedPattern?: string }>;
    mainSteps: Array<{ action: string; name: string; inputs: { runCommand: unknown; timeoutSeconds?: unknown } }>;
  };
  const actions: readonly StepAction[] = ['aws:runShellScript', 'aws:runPowerShellScript'];
  if (content.schemaVersion !== '2.2' || content.mainSteps.length !== 1 || !actions.includes(content.mainSteps[0].action as StepAction)) {
    throw new Error('the stand-in runs one aws:runShellScript or aws:runPowerShellScript step of a schema 2.2 Command document');
  }
  const step = content.mainSteps[0];
  const runCommand = step.inputs.runCommand;
  if (!Array.isArray(runCommand) || runCommand.some((l) => typeof l !== 'string')) throw new Error('the document\'s runCommand is not a list of strings');

  const rules = Object.values(resources)
    .filter((r) => r.Type === 'AWS::Events::Rule')
    .filter((r) => (r.Properties?.Targets as Array<{ Arn: unknown }> ?? []).some((t) => JSON.stringify(t.Arn).includes(`"${fnId}"`)));
  const patternRules = rules.filter((r) => r.Properties!.EventPattern !== undefined);
  const eventPatterns = patternRules.map((r) => resolve(r.Properties!.EventPattern) as Record<string, unknown>);
  const schedules = rules.flatMap((r) => (typeof r.Properties!.ScheduleExpression === 'string' ? [rateSeconds(r.Properties!.ScheduleExpression)] : []));
  if (schedules.length > 1) throw new Error(`expected at most one scheduled rule targeting the function, found ${schedules.length}`);
  const targetAges = patternRules.flatMap((r) => (r.Properties!.Targets as Array<{ RetryPolicy?: { MaximumEventAgeInSeconds?: number } }>)
    .map((t) => Number(t.RetryPolicy?.MaximumEventAgeInSeconds ?? 86_400)));

  const tables = Object.values(resources).filter((r) => r.Type === 'AWS::DynamoDB::Table');
  if (tables.length > 1) throw new Error(`expected at most one AWS::DynamoDB::Table in the synthesized template, found ${tables.length}`);
  const tableProps = tables[0]?.Properties as Record<string, any> | undefined;
  const actionTable: TableDefinition | undefined = tableProps && {
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

  const result: HookTemplate = {
    transition: hook.transition,
    environment: environment as Record<string, string>,
    functionTimeoutSeconds: Number(fnProps.Timeout ?? 3),
    memoryMB: Number(fnProps.MemorySize ?? 128),
    retryAttempts,
    heartbeatTimeoutSeconds: Number(hookProps.HeartbeatTimeout ?? 3600),
    defaultResult: (hookProps.DefaultResult ?? 'ABANDON') as LifecycleResult,
    document: {
      version: '1',
      stepName: step.name,
      action: step.action as StepAction,
      runCommand: runCommand as string[],
      timeoutSeconds: step.inputs.timeoutSeconds,
      parameters: content.parameters ?? {},
    },
    maximumEventAgeSeconds,
    // EventBridge's own limit when a target sets none: 24 hours.
    targetMaximumEventAgeSeconds: Math.min(...targetAges, 86_400),
    eventPatterns,
    actionTable,
    functionArn: String(resolve({ 'Fn::GetAtt': [fnId, 'Arn'] })),
    stateMachine,
    scheduleSeconds: schedules[0],
  };
  cache.set(key, result);
  return result;
}

/** `rate(N minutes)` and friends, in seconds (the stand-in models no cron expressions). */
function rateSeconds(expression: string): number {
  const m = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!m) throw new Error(`unsupported schedule expression ${expression}`);
  const unit = m[2].startsWith('minute') ? 60 : m[2].startsWith('hour') ? 3600 : 86_400;
  return Number(m[1]) * unit;
}

function hasHookEnvironment(props: Record<string, unknown> | undefined): boolean {
  const vars = (props?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
  return vars !== undefined && 'HOOK_NAME' in vars;
}

function only(resources: Resources, type: string, filter: (r: Resources[string]) => boolean = () => true): [string, Resources[string]] {
  const found = Object.entries(resources).filter(([, r]) => r.Type === type && filter(r));
  if (found.length !== 1) throw new Error(`expected one ${type} in the synthesized template, found ${found.length}`);
  return found[0];
}

function resolveIntrinsics(value: unknown, refs: Map<string, string>, names: ResourceNames): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, refs, names));
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
    return parts.map((p) => resolveIntrinsics(p, refs, names)).join(sep);
  }
  if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
    const [id, attr] = obj['Fn::GetAtt'] as [string, string];
    return `arn:aws:standin:${names.region}:${names.account}:${refs.get(id) ?? id}/${attr}`;
  }
  if (keys.length === 1 && keys[0].startsWith('Fn::')) throw new Error(`unsupported intrinsic ${keys[0]}`);
  return Object.fromEntries(keys.map((k) => [k, resolveIntrinsics(obj[k], refs, names)]));
}
