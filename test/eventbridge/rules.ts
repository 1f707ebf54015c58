// The library's EventBridge rules, synthesized with their intrinsics resolved to
// test values, and the events each one must match: AWS's sample events
// (fixtures/), bound to each hook's group, hook and document or to foreign ones.
//
// Nothing here names a logical id or a construct path of the library: every
// AWS::Events::Rule with an EventPattern in every template of the app is
// checked, and what a rule must match follows from which hooks it serves (the
// hooks whose group and hook name, or whose document, its pattern accepts)
// and from what those hooks want:
// - a lifecycle event of the hook's group, hook name and transition (and, if
//   the rule looks at Origin or Destination, of a stage the hook chose); for a
//   group of the same app, which holds the hook in its own definition and
//   waits for the hook's rule, so that the rule cannot name it, of the hook's
//   name and transition whatever the group (the name bears the runtime's
//   prefix; the hook's role acts only on the group carrying the hook's tag);
// - a command invocation event of the hook's document in a final status, or,
//   for the rules made by onCommandFailed, in a failed status; the runtime's
//   shared rule, which serves every hook of the runtime, takes any document
//   whose name bears the runtime's prefix and a dash (the function looks up
//   the hook of the document, and ignores one that is no hook's).
// Foreign events (another group, hook, document, transition, detail-type, a
// test notification, a non-final status) are wanted by no hook.
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { App, Duration, Stack, aws_autoscaling as autoscaling, aws_ec2 as ec2, aws_events as events, aws_events_targets as targets, aws_sns as sns } from 'aws-cdk-lib';
import { CommandShell, LifecycleCommandHook, LifecycleStage } from '../../src';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

/** The invocation statuses of the SSM events (SSM User Guide, "Understanding command statuses"). */
const FINAL_STATUSES = ['Success', 'Failed', 'TimedOut', 'Cancelled', 'Undeliverable', 'Terminated'];
const FAILED_STATUSES = FINAL_STATUSES.filter((s) => s !== 'Success');
const NON_FINAL_STATUSES = ['Pending', 'InProgress', 'Delayed', 'Cancelling'];

type Transition = 'launch' | 'terminate';
const LIFECYCLE_TRANSITION: Record<Transition, string> = {
  launch: 'autoscaling:EC2_INSTANCE_LAUNCHING',
  terminate: 'autoscaling:EC2_INSTANCE_TERMINATING',
};
const DETAIL_TYPE: Record<Transition, string> = {
  launch: 'EC2 Instance-launch Lifecycle Action',
  terminate: 'EC2 Instance-terminate Lifecycle Action',
};

/**
 * Where an instance comes from and goes to at each stage (Auto Scaling User
 * Guide, "Warm pool example events and patterns"); undefined: an event of a
 * group without a warm pool, which carries neither field.
 */
const STAGE_ROUTES: Array<{ transition: Transition; stage: LifecycleStage; origin?: string; destination?: string }> = [
  { transition: 'launch', stage: LifecycleStage.LAUNCH_INTO_GROUP },
  { transition: 'launch', stage: LifecycleStage.ENTER_WARM_POOL, origin: 'EC2', destination: 'WarmPool' },
  { transition: 'launch', stage: LifecycleStage.LEAVE_WARM_POOL, origin: 'WarmPool', destination: 'AutoScalingGroup' },
  { transition: 'launch', stage: LifecycleStage.LAUNCH_INTO_GROUP, origin: 'EC2', destination: 'AutoScalingGroup' },
  { transition: 'terminate', stage: LifecycleStage.TERMINATE },
  { transition: 'terminate', stage: LifecycleStage.RETURN_TO_WARM_POOL, origin: 'AutoScalingGroup', destination: 'WarmPool' },
  { transition: 'terminate', stage: LifecycleStage.TERMINATE, origin: 'AutoScalingGroup', destination: 'EC2' },
  { transition: 'terminate', stage: LifecycleStage.TERMINATE, origin: 'WarmPool', destination: 'EC2' },
];

/** A hook of the test app, as deployed. */
export interface HookUnderTest {
  readonly label: string;
  readonly groupName: string;
  readonly hookName: string;
  readonly documentName: string;
  readonly transition: Transition;
  readonly stages: readonly LifecycleStage[];
  /** Has a rule made by onCommandFailed. */
  readonly failureRule: boolean;
  /** A group of the same app: known by the hook's tag, never named in the hook's rule. */
  readonly groupOfApp: boolean;
  /** The prefix of the names of its runtime's documents and rules. */
  readonly runtimePrefix: string;
}

export interface RuleUnderTest {
  /** `<stack>/<logical id>` */
  readonly id: string;
  readonly pattern: Record<string, unknown>;
  /** Made by onCommandFailed: wants failed statuses rather than final ones. */
  readonly failureRule: boolean;
  /** The rule's name, when the template names it. */
  readonly name?: string;
}

export interface EventUnderTest {
  readonly id: string;
  /** The fixture file it comes from, and what was changed in it. */
  readonly fixture: string;
  readonly event: Record<string, unknown>;
  /** What the event is about, for deciding who wants it. */
  readonly about: EventAbout;
}

type EventAbout =
  | { kind: 'lifecycle'; groupName: string; hookName: string; transition: Transition; stage: LifecycleStage }
  | { kind: 'invocation'; documentName: string; status: string }
  | { kind: 'foreign' };

export interface RuleCases {
  readonly hooks: HookUnderTest[];
  readonly rules: RuleUnderTest[];
  readonly events: EventUnderTest[];
  /** Rule id to the ids of the events it must match; every other event it must not. */
  readonly expected: Record<string, string[]>;
}

/** The app whose rules are checked: launch and terminate hooks, chosen warm-pool stages, PowerShell, onCommandFailed. */
interface BuiltHook {
  readonly hook: LifecycleCommandHook;
  readonly label: string;
  readonly group: string;
  readonly transition: Transition;
  readonly stages?: LifecycleStage[];
  readonly failureRule: boolean;
  readonly groupOfApp: boolean;
}

function buildApp(): { app: App; hooks: BuiltHook[] } {
  const app = new App();
  const stack = new Stack(app, 'RuleHooks', { env: { account: ACCOUNT, region: REGION } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0a1b2c3d4e5f60718',
    availabilityZones: ['eu-west-1a'],
    privateSubnetIds: ['subnet-0a1b2c3d4e5f60718'],
  });
  const group = new autoscaling.AutoScalingGroup(stack, 'Group', {
    vpc,
    instanceType: new ec2.InstanceType('t3.micro'),
    machineImage: ec2.MachineImage.latestAmazonLinux2023(),
  });
  const imported = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Imported', 'windows-fleet');
  const topic = new sns.Topic(stack, 'Failures');
  const hooks: BuiltHook[] = [];
  const add = (label: string, scopeGroup: autoscaling.IAutoScalingGroup, transition: Transition, extra: {
    stages?: LifecycleStage[]; shell?: CommandShell; failureRule?: boolean;
  } = {}) => {
    const hook = new LifecycleCommandHook(stack, label, {
      autoScalingGroup: scopeGroup,
      transition: transition === 'launch' ? autoscaling.LifecycleTransition.INSTANCE_LAUNCHING : autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      commands: extra.shell === CommandShell.POWERSHELL ? ['Write-Output ready'] : ['echo ready'],
      timeout: Duration.minutes(5),
      ...(extra.stages ? { stages: extra.stages } : {}),
      ...(extra.shell ? { shell: extra.shell } : {}),
    });
    if (extra.failureRule) hook.onCommandFailed(`${label}Failed`, { target: new targets.SnsTopic(topic) });
    hooks.push({
      hook,
      label,
      group: scopeGroup.autoScalingGroupName,
      transition,
      stages: extra.stages,
      failureRule: extra.failureRule ?? false,
      groupOfApp: scopeGroup instanceof autoscaling.AutoScalingGroup,
    });
  };
  add('Bootstrap', group, 'launch', { failureRule: true });
  add('Drain', group, 'terminate');
  add('Warm', group, 'launch', { stages: [LifecycleStage.ENTER_WARM_POOL] });
  add('Return', group, 'terminate', { stages: [LifecycleStage.RETURN_TO_WARM_POOL] });
  add('WindowsSetup', imported, 'launch', { shell: CommandShell.POWERSHELL, failureRule: true });
  return { app, hooks };
}

/**
 * Resolves a template value with made-up physical values: a resource's Ref is
 * its name (physicalName), its Arn an ARN naming its logical id; the pseudo
 * parameters are the test account and region. Throws on any other intrinsic.
 */
export function resolve(value: unknown, template: any): any {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => resolve(v, template));
  const o = value as Record<string, any>;
  const [key] = Object.keys(o);
  if (Object.keys(o).length === 1 && (key === 'Ref' || key.startsWith('Fn::'))) {
    const arg = o[key];
    switch (key) {
      case 'Ref':
        if (arg === 'AWS::AccountId') return ACCOUNT;
        if (arg === 'AWS::Region') return REGION;
        if (arg === 'AWS::Partition') return 'aws';
        if (arg === 'AWS::URLSuffix') return 'amazonaws.com';
        if (template.Parameters?.[arg]) return `${arg}-value`;
        if (template.Resources?.[arg]) return physicalName(arg, template);
        throw new Error(`no such Ref: ${arg}`);
      case 'Fn::GetAtt': {
        const [id, attribute] = arg as [string, string];
        if (!template.Resources?.[id]) throw new Error(`no such resource: ${id}`);
        return attribute === 'Arn' ? `arn:aws:test:${REGION}:${ACCOUNT}:${id}-physical` : `${id}-physical.${attribute}`;
      }
      case 'Fn::Join': return (arg[1] as unknown[]).map((v) => resolve(v, template)).join(arg[0]);
      case 'Fn::Select': return resolve(arg[1], template)[Number(resolve(arg[0], template))];
      case 'Fn::Split': return String(resolve(arg[1], template)).split(arg[0]);
      default: throw new Error(`cannot resolve ${key}`);
    }
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v, template)]));
}

/**
 * A resource's Ref: the name the template gives it (`Name`, or `<type>Name` as
 * in AutoScalingGroupName), else `<logical id>-physical`.
 */
function physicalName(logicalId: string, template: any): string {
  const resource = template.Resources[logicalId];
  const typeName = `${String(resource.Type).split('::').pop()}Name`;
  for (const property of ['Name', typeName]) {
    const value = resource.Properties?.[property];
    if (value !== undefined) return resolve(value, template);
  }
  return `${logicalId}-physical`;
}

function readFixtures(): Array<{ name: string; role: string; event: Record<string, any> }> {
  const dir = path.join(__dirname, 'fixtures');
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((name) => {
    const fixture = JSON.parse(readFileSync(path.join(dir, name), 'utf8'));
    if (!fixture.page?.url || !fixture.page?.title) throw new Error(`${name} does not name the page it comes from`);
    return { name, role: fixture.role, event: fixture.event };
  });
}

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value));
const groupArn = (name: string) => `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:042cba90-ad2f-431c-9b4d-6d9055bcc9fb:autoScalingGroupName/${name}`;

/** Each fixture bound to each hook, to the other hooks' values, and to foreign ones. */
function eventsFor(hooks: HookUnderTest[]): EventUnderTest[] {
  const out: EventUnderTest[] = [];
  const push = (fixture: string, change: string, event: Record<string, any>, about: EventAbout) =>
    out.push({ id: `${fixture} ${change}`, fixture, event, about });
  const groups = [...new Set(hooks.map((h) => h.groupName)), 'another-group'];
  const hookNames = [...new Set(hooks.map((h) => h.hookName)), 'another-hook'];
  const prefixes = [...new Set(hooks.map((h) => h.runtimePrefix))];
  const documents = [
    ...new Set(hooks.map((h) => h.documentName)), 'AnotherDocument', 'AWS-RunShellScript',
    // A document of the runtime's prefix that is no hook's; names that start with the prefix but not with the prefix and a dash.
    ...prefixes.flatMap((prefix) => [`${prefix}-NoSuchHook`, `${prefix}0-Hook`, `${prefix}Hook`, `x-${prefix}-Hook`]),
  ];
  for (const { name, role, event } of readFixtures()) {
    push(name, 'as published', event, { kind: 'foreign' });
    if (role === 'lifecycle') {
      // Every documented route of either transition (its detail-type and LifecycleTransition), for each
      // group and hook name: a hook's name under the other transition stands for another transition.
      for (const route of STAGE_ROUTES) {
        for (const groupName of groups) {
          for (const hookName of hookNames) {
            const e = clone(event);
            e['detail-type'] = DETAIL_TYPE[route.transition];
            e.resources = [groupArn(groupName)];
            e.detail.AutoScalingGroupName = groupName;
            e.detail.LifecycleHookName = hookName;
            e.detail.LifecycleTransition = LIFECYCLE_TRANSITION[route.transition];
            delete e.detail.Origin;
            delete e.detail.Destination;
            if (route.origin) e.detail.Origin = route.origin;
            if (route.destination) e.detail.Destination = route.destination;
            push(name, `${route.transition} ${route.origin ?? '-'}>${route.destination ?? '-'} ${groupName}/${hookName}`, e,
              { kind: 'lifecycle', groupName, hookName, transition: route.transition, stage: route.stage });
          }
        }
      }
    } else if (role === 'invocation') {
      for (const documentName of documents) {
        for (const status of [...FINAL_STATUSES, ...NON_FINAL_STATUSES]) {
          const e = clone(event);
          e.detail['document-name'] = documentName;
          e.detail.status = status;
          push(name, `${documentName} ${status}`, e, { kind: 'invocation', documentName, status });
        }
      }
    } else {
      // A foreign event naming this app's groups, hooks and documents where it has such fields.
      for (const h of hooks) {
        const e = clone(event);
        const detail = e.detail ?? e;
        if ('AutoScalingGroupName' in detail) detail.AutoScalingGroupName = h.groupName;
        if ('LifecycleHookName' in detail) detail.LifecycleHookName = h.hookName;
        if ('document-name' in detail) detail['document-name'] = h.documentName;
        push(name, `naming ${h.label}`, e, { kind: 'foreign' });
      }
    }
  }
  return out;
}

function wants(hook: HookUnderTest, rule: RuleUnderTest, about: EventAbout): boolean {
  const kind = ruleKind(rule);
  if (about.kind === 'lifecycle' && kind === 'lifecycle') {
    // A rule that looks at the warm-pool fields must also leave out the stages the hook did not choose.
    const detail = rule.pattern.detail as Record<string, unknown> | undefined;
    const filtersStages = detail !== undefined && ('Origin' in detail || 'Destination' in detail);
    return (hook.groupOfApp || about.groupName === hook.groupName) && about.hookName === hook.hookName && about.transition === hook.transition
      && (!filtersStages || hook.stages.includes(about.stage));
  }
  if (about.kind === 'invocation' && kind === 'invocation') {
    if (rule.failureRule) return about.documentName === hook.documentName && FAILED_STATUSES.includes(about.status);
    return (about.documentName === hook.documentName || (sharedStatusRule(rule, hook) && about.documentName.startsWith(`${hook.runtimePrefix}-`)))
      && FINAL_STATUSES.includes(about.status);
  }
  return false;
}

/** The rule on the commands' statuses of the hook's runtime: named `<prefix>-command-status`, as the runtime names it. */
function sharedStatusRule(rule: RuleUnderTest, hook: Pick<HookUnderTest, 'runtimePrefix'>): boolean {
  return rule.name === `${hook.runtimePrefix}-command-status`;
}

/** Whether one field of a pattern accepts a value: unconstrained, listed, or matched by a prefix. */
function accepts(pattern: Record<string, unknown> | undefined, field: string, value: string): boolean {
  const rule = pattern?.[field];
  if (rule === undefined) return true;
  if (!Array.isArray(rule)) return false;
  return rule.some((r) => r === value || (typeof r === 'object' && r !== null && typeof (r as any).prefix === 'string' && value.startsWith((r as any).prefix)));
}

/** The kind of events a rule is for, by the one source its pattern names. */
function ruleKind(rule: RuleUnderTest): 'lifecycle' | 'invocation' {
  const sources = rule.pattern.source;
  if (!Array.isArray(sources) || sources.length !== 1) throw new Error(`${rule.id}: expected one source, got ${JSON.stringify(sources)}`);
  if (sources[0] === 'aws.autoscaling') return 'lifecycle';
  if (sources[0] === 'aws.ssm') return 'invocation';
  throw new Error(`${rule.id}: a rule of source ${sources[0]} is not one this check knows`);
}

/** The hooks a rule serves: those whose identity its pattern accepts. */
function served(rule: RuleUnderTest, hooks: HookUnderTest[]): HookUnderTest[] {
  const detail = rule.pattern.detail as Record<string, unknown> | undefined;
  return ruleKind(rule) === 'lifecycle'
    ? hooks.filter((h) => accepts(detail, 'AutoScalingGroupName', h.groupName) && accepts(detail, 'LifecycleHookName', h.hookName))
    : hooks.filter((h) => accepts(detail, 'document-name', h.documentName));
}

export function ruleCases(): RuleCases {
  const { app, hooks: built } = buildApp();
  const assembly = app.synth();
  const rules: RuleUnderTest[] = [];
  const failureRuleIds = new Set(built.filter((b) => b.failureRule).flatMap((b) =>
    b.hook.node.children.filter((c) => c instanceof events.Rule && c.node.id.endsWith('Failed'))
      .map((c) => `${Stack.of(c).stackName}/${Stack.of(c).getLogicalId((c as events.Rule).node.defaultChild as any)}`)));
  for (const stack of assembly.stacks) {
    const template = stack.template;
    for (const [logicalId, resource] of Object.entries<any>(template.Resources ?? {})) {
      if (resource.Type !== 'AWS::Events::Rule' || !resource.Properties?.EventPattern) continue;
      const id = `${stack.stackName}/${logicalId}`;
      rules.push({
        id,
        pattern: resolve(resource.Properties.EventPattern, template),
        failureRule: failureRuleIds.has(id),
        ...(typeof resource.Properties.Name === 'string' ? { name: resource.Properties.Name } : {}),
      });
    }
  }
  const stack = Stack.of(built[0].hook);
  const template = assembly.getStackByName(stack.stackName).template;
  const hooks: HookUnderTest[] = built.map((b) => ({
    label: b.label,
    groupName: resolve(stack.resolve(b.group), template),
    hookName: resolve(stack.resolve(b.hook.lifecycleHookName), template),
    documentName: resolve(stack.resolve(b.hook.documentName), template),
    transition: b.transition,
    stages: b.stages ?? STAGE_ROUTES.filter((r) => r.transition === b.transition).map((r) => r.stage),
    failureRule: b.failureRule,
    groupOfApp: b.groupOfApp,
    runtimePrefix: b.hook.runtime.namePrefix,
  }));
  // The runtime's shared status rule is the one this check expects: exactly one, named by the runtime's prefix.
  for (const prefix of new Set(hooks.map((h) => h.runtimePrefix))) {
    const shared = rules.filter((r) => sharedStatusRule(r, { runtimePrefix: prefix }));
    if (shared.length !== 1) throw new Error(`expected one status rule of the runtime ${prefix}, found ${shared.length}`);
  }
  const allEvents = eventsFor(hooks);
  const expected: Record<string, string[]> = {};
  for (const rule of rules) {
    const serving = served(rule, hooks);
    expected[rule.id] = allEvents.filter((e) => serving.some((h) => wants(h, rule, e.about))).map((e) => e.id);
  }
  // Every hook needs a rule for its lifecycle events and one for its final statuses (and its onCommandFailed rule).
  for (const h of hooks) {
    const needs: Array<[string, EventAbout]> = [
      ['its lifecycle events', { kind: 'lifecycle', groupName: h.groupName, hookName: h.hookName, transition: h.transition, stage: h.stages[0] }],
      ['its commands\' final statuses', { kind: 'invocation', documentName: h.documentName, status: 'Success' }],
    ];
    for (const [what, about] of needs) {
      if (!rules.some((r) => !r.failureRule && served(r, [h]).length > 0 && wants(h, r, about))) throw new Error(`no rule serves hook ${h.label} for ${what}`);
    }
    if (h.failureRule && !rules.some((r) => r.failureRule && served(r, [h]).length > 0)) throw new Error(`no onCommandFailed rule serves hook ${h.label}`);
  }
  return { hooks, rules, events: allEvents, expected };
}
