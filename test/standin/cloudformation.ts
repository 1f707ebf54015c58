/**
 * CloudFormation, as far as deploying the construct's stack decides what the
 * hooks see: resources are created in dependency order (DependsOn, Ref,
 * Fn::GetAtt, Fn::Sub), each taking its own time, as many at once as the
 * order allows; an update creates the new resources and updates the changed
 * ones first, and deletes the removed ones in its cleanup phase; a stack is
 * deleted in reverse dependency order. A resource that does not exist yet (or
 * any more) takes part in nothing: its rule matches no event, its function is
 * not invoked, its role cannot be assumed, its parameter is not found, its
 * lifecycle hook holds no instance.
 *
 * The Auto Scaling group of the app is created with its tags, the hooks of its
 * LifecycleHookSpecificationList (present from its first instance) and its
 * initial capacity; a CreationPolicy waits for its count of signals, which a
 * stub user-data program sends once its instance is InService; deleting the
 * group scales it in to nothing first, through its terminate hooks. A group
 * with a replacing update policy whose launch configuration changes is
 * replaced: the new group is created during the update, the old one deleted
 * in the cleanup phase.
 *
 * Sources (FIDELITY.md has a row for each): CloudFormation User Guide,
 * "DependsOn attribute", "Monitor the progress of a stack update",
 * "Understand update behaviors of stack resources"; Template Reference,
 * "CreationPolicy attribute", "UpdatePolicy attribute" (AutoScalingReplacingUpdate),
 * AWS::AutoScaling::LaunchConfiguration, AWS::AutoScaling::AutoScalingGroup
 * (LifecycleHookSpecificationList, Tags), AWS::AutoScaling::LifecycleHook;
 * EC2 Auto Scaling API Reference, CreateAutoScalingGroup and DeleteLifecycleHook.
 *
 * This file also synthesizes the stacks the model deploys: the runtime and its
 * hooks on a group of the same app (a real `autoscaling.AutoScalingGroup` in an
 * imported VPC), and the earlier layout the upgrade starts from.
 */
import {
  App,
  Duration,
  Names,
  Stack,
  aws_autoscaling as autoscaling,
  aws_ec2 as ec2,
  aws_events as events,
  aws_events_targets as targets,
  aws_lambda as lambda,
} from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import type { AutoScalingGroup, HookSpec } from './autoscaling';
import type { VirtualClock } from './clock';
import type { Instance } from './model';
import type { DeployOptions, DeployStep, HookOptions, LifecycleResult, ScenarioOptions } from './options';
import { Range, Rng } from './rng';
import { hookId, hookProps, readRuntime, ResourceNames, Resources, RuntimeTemplate } from './template';
import type { World } from './world';
import { LifecycleCommandHook } from '../../src';

type Resource = Resources[string];

/** How long CloudFormation takes to create, update or delete a resource, by type, virtual ms. */
export const DEFAULT_TIMINGS: Readonly<Record<string, Range>> = {
  'AWS::IAM::Role': [10_000, 20_000],
  'AWS::IAM::Policy': [10_000, 20_000],
  'AWS::IAM::InstanceProfile': [60_000, 120_000],
  'AWS::Lambda::Function': [5_000, 15_000],
  'AWS::DynamoDB::Table': [8_000, 20_000],
  'AWS::Events::Rule': [2_000, 6_000],
  'AWS::SSM::Parameter': [1_000, 3_000],
  'AWS::SSM::Document': [1_000, 3_000],
  'AWS::StepFunctions::StateMachine': [3_000, 8_000],
  'AWS::AutoScaling::LifecycleHook': [1_000, 3_000],
  // The group's own calls; waiting for its instances (deletion) or signals comes on top.
  'AWS::AutoScaling::AutoScalingGroup': [20_000, 40_000],
  'default': [1_000, 5_000],
};

/** A stack event, as DescribeStackEvents lists them. */
export interface StackEvent {
  readonly atMs: number;
  readonly logicalId: string;
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
}

/** What happens to the world as CloudFormation creates, updates and deletes a resource. */
export interface ResourceHandler {
  create(id: string, resource: Resource, done: (error?: string) => void): void;
  update(id: string, before: Resource, after: Resource, done: (error?: string) => void): void;
  delete(id: string, resource: Resource, done: () => void): void;
}

/** The resources a resource depends on: its DependsOn, and the resources its properties name (Ref, Fn::GetAtt, Fn::Sub). */
export function dependenciesOf(template: Resources, id: string): string[] {
  const r = template[id];
  const found = new Set<string>([r.DependsOn ?? []].flat());
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) { v.forEach(visit); return; }
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string') found.add(o.Ref);
    if (Array.isArray(o['Fn::GetAtt'])) found.add(String(o['Fn::GetAtt'][0]));
    const sub = o['Fn::Sub'];
    const text = typeof sub === 'string' ? sub : Array.isArray(sub) ? String(sub[0]) : undefined;
    for (const m of text?.matchAll(/\$\{([A-Za-z0-9]+)(\.[A-Za-z0-9.]+)?\}/g) ?? []) found.add(m[1]);
    Object.values(o).forEach(visit);
  };
  visit(r.Properties);
  return [...found].filter((d) => d !== id && d in template);
}

/**
 * What an update changes: resources whose properties differ, or that name a
 * resource being replaced (its physical name changes); and of those, the ones
 * replaced rather than updated in place. A launch configuration cannot be
 * changed, so any change replaces it; a group whose UpdatePolicy has
 * `AutoScalingReplacingUpdate` `WillReplace` is replaced when its launch
 * configuration, launch template, subnets or placement group change. Every
 * other change is in place.
 */
export function changesOf(old: Resources, template: Resources): { changed: string[]; replaced: Set<string> } {
  const changed = new Set<string>();
  const replaced = new Set<string>();
  const visit = (id: string, seen: Set<string>): void => {
    if (seen.has(id)) return;
    seen.add(id);
    const deps = dependenciesOf(template, id);
    deps.forEach((d) => visit(d, seen));
    if (!(id in old)) return;
    const before = old[id].Properties ?? {};
    const after = template[id].Properties ?? {};
    const differs = (key: string) => JSON.stringify(before[key]) !== JSON.stringify(after[key]);
    const namesReplaced = (key: string) => JSON.stringify(after[key] ?? null).match(/"(Ref|Fn::GetAtt)":\s*\[?"([A-Za-z0-9]+)"/g)
      ?.some((m) => replaced.has(/"([A-Za-z0-9]+)"$/.exec(m)![1])) ?? false;
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    const touched = keys.filter((k) => differs(k) || namesReplaced(k));
    if (touched.length === 0) return;
    changed.add(id);
    const r = template[id];
    if (r.Type === 'AWS::AutoScaling::LaunchConfiguration') replaced.add(id);
    const replacing = (r.UpdatePolicy?.AutoScalingReplacingUpdate as { WillReplace?: unknown } | undefined)?.WillReplace;
    if (r.Type === 'AWS::AutoScaling::AutoScalingGroup' && (replacing === true || replacing === 'true')
      && touched.some((k) => ['LaunchConfigurationName', 'LaunchTemplate', 'MixedInstancesPolicy', 'VPCZoneIdentifier', 'PlacementGroup'].includes(k))) {
      replaced.add(id);
    }
  };
  const seen = new Set<string>();
  Object.keys(template).forEach((id) => visit(id, seen));
  return { changed: Object.keys(template).filter((id) => changed.has(id)), replaced };
}

/**
 * One stack: its template as deployed, which of its resources exist, its
 * status and its events. Operations run one at a time, on the virtual clock.
 */
export class CloudFormation {
  readonly events: StackEvent[] = [];
  status = 'NONE';
  private deployed: Resources = {};
  private readonly existing = new Set<string>();
  private running = false;

  constructor(private readonly clock: VirtualClock, private readonly handler: ResourceHandler) {}

  /** Whether the resource exists now (created, and not yet deleted). */
  exists(id: string | undefined): boolean {
    return id !== undefined && this.existing.has(id);
  }

  get busy(): boolean {
    return this.running;
  }

  /** The stack as if created before the run: every resource exists, no time passes. */
  adopt(template: Resources, create: (id: string, r: Resource) => void): void {
    this.deployed = template;
    for (const [id, r] of Object.entries(template)) {
      create(id, r);
      this.existing.add(id);
    }
    this.status = 'CREATE_COMPLETE';
  }

  /** Creates the stack with this template, or updates it to it. */
  deploy(template: Resources, done: (status: string) => void = () => {}): void {
    if (this.running) throw new Error(`the stack is busy (${this.status})`);
    this.running = true;
    if (this.status === 'NONE' || this.status === 'DELETE_COMPLETE') this.create(template, done);
    else this.update(template, done);
  }

  /** Deletes the stack: every resource, in reverse dependency order. */
  delete(done: (status: string) => void = () => {}): void {
    if (this.running) throw new Error(`the stack is busy (${this.status})`);
    this.running = true;
    this.setStatus('DELETE_IN_PROGRESS');
    const old = this.deployed;
    this.walkReverse(old, Object.keys(old), () => {
      this.deployed = {};
      this.finish('DELETE_COMPLETE', done);
    });
  }

  private create(template: Resources, done: (status: string) => void): void {
    this.deployed = template;
    this.setStatus('CREATE_IN_PROGRESS');
    this.walk(template, Object.keys(template), (id, finished) => this.createOne(id, template[id], finished), (failed) => {
      if (!failed) { this.finish('CREATE_COMPLETE', done); return; }
      // A failed creation rolls the stack back: what was created is deleted.
      this.setStatus('ROLLBACK_IN_PROGRESS', failed);
      this.walkReverse(template, [...this.existing], () => this.finish('ROLLBACK_COMPLETE', done));
    });
  }

  private update(template: Resources, done: (status: string) => void): void {
    const old = this.deployed;
    const added = Object.keys(template).filter((id) => !(id in old));
    const removed = Object.keys(old).filter((id) => !(id in template));
    const { changed, replaced } = changesOf(old, template);
    this.setStatus('UPDATE_IN_PROGRESS');
    this.walk(template, [...added, ...changed], (id, finished) => {
      if (added.includes(id)) this.createOne(id, template[id], finished);
      else if (replaced.has(id)) this.replaceOne(id, template[id], finished);
      else this.updateOne(id, old[id], template[id], finished);
    }, (failed) => {
      if (failed) {
        // Not modelled: the update's rollback. The stack stays as far as it got.
        this.finish('UPDATE_FAILED', done, failed);
        return;
      }
      this.deployed = template;
      // Removed resources, and the old physical resources of replaced ones, go in the cleanup phase, after everything
      // else, in reverse dependency order (the old template's).
      this.setStatus('UPDATE_COMPLETE_CLEANUP_IN_PROGRESS');
      this.walkReverse(old, [...removed, ...replaced], () => this.finish('UPDATE_COMPLETE', done), replaced);
    });
  }

  /** A replacement: the new physical resource is created now; the old one stays until the cleanup phase. */
  private replaceOne(id: string, after: Resource, finished: (error?: string) => void): void {
    this.event(id, after, 'UPDATE_IN_PROGRESS', 'Requested update requires the creation of a new physical resource; hence creating one.');
    this.handler.create(id, after, (error) => {
      this.event(id, after, error ? 'UPDATE_FAILED' : 'UPDATE_COMPLETE', error);
      finished(error);
    });
  }

  private createOne(id: string, r: Resource, finished: (error?: string) => void): void {
    this.event(id, r, 'CREATE_IN_PROGRESS');
    this.handler.create(id, r, (error) => {
      if (error) {
        this.event(id, r, 'CREATE_FAILED', error);
      } else {
        this.existing.add(id);
        this.event(id, r, 'CREATE_COMPLETE');
      }
      finished(error);
    });
  }

  private updateOne(id: string, before: Resource, after: Resource, finished: (error?: string) => void): void {
    this.event(id, after, 'UPDATE_IN_PROGRESS');
    this.handler.update(id, before, after, (error) => {
      this.event(id, after, error ? 'UPDATE_FAILED' : 'UPDATE_COMPLETE', error);
      finished(error);
    });
  }

  /**
   * Acts on each of `ids` once the resources of `ids` it depends on are done,
   * as many at once as that allows; after a failure starts nothing more and
   * reports it once the others running have ended.
   */
  private walk(
    template: Resources,
    ids: readonly string[],
    act: (id: string, finished: (error?: string) => void) => void,
    end: (failed?: string) => void,
  ): void {
    const pending = new Set(ids);
    const deps = new Map(ids.map((id) => [id, dependenciesOf(template, id).filter((d) => pending.has(d))]));
    const done = new Set<string>();
    let running = 0;
    let failed: string | undefined;
    let ended = false;
    const next = () => {
      if (ended) return;
      if (!failed) {
        for (const id of [...pending]) {
          if (!pending.has(id) || !deps.get(id)!.every((d) => done.has(d))) continue;
          pending.delete(id);
          running++;
          act(id, (error) => {
            running--;
            if (error && !failed) failed = `${id}: ${error}`;
            done.add(id);
            next();
          });
        }
      }
      if (running > 0 || ended) return;
      if (failed || pending.size === 0) {
        ended = true;
        end(failed);
      } else {
        throw new Error(`circular dependency among ${[...pending].join(', ')}`);
      }
    };
    if (ids.length === 0) this.clock.schedule(0, () => end());
    else next();
  }

  /**
   * Deletes each of `ids` once every resource of `ids` that depends on it is
   * deleted; of the `replaced`, the old physical resource (the new one stays).
   */
  private walkReverse(template: Resources, ids: readonly string[], end: () => void, replaced: ReadonlySet<string> = new Set()): void {
    const set = new Set(ids);
    const dependents = new Map(ids.map((id) => [id, [] as string[]]));
    for (const id of ids) for (const d of dependenciesOf(template, id)) if (set.has(d)) dependents.get(d)!.push(id);
    const reversed: Resources = Object.fromEntries(ids.map((id) => [id, { ...template[id], DependsOn: dependents.get(id), Properties: {} }]));
    this.walk(reversed, ids, (id, finished) => {
      const r = template[id];
      if (!this.existing.has(id)) { finished(); return; }
      this.event(id, r, 'DELETE_IN_PROGRESS');
      this.handler.delete(id, r, () => {
        if (!replaced.has(id)) this.existing.delete(id);
        this.event(id, r, 'DELETE_COMPLETE');
        finished();
      });
    }, () => end());
  }

  private finish(status: string, done: (status: string) => void, reason?: string): void {
    this.setStatus(status, reason);
    this.running = false;
    done(status);
  }

  private setStatus(status: string, reason?: string): void {
    this.status = status;
    this.events.push({ atMs: this.clock.elapsed, logicalId: 'StandIn', type: 'AWS::CloudFormation::Stack', status, reason });
  }

  private event(id: string, r: Resource, status: string, reason?: string): void {
    this.events.push({ atMs: this.clock.elapsed, logicalId: id, type: r.Type, status, reason });
  }
}

// ---------------------------------------------------------------------------
// The stacks the model deploys.

/** The physical name CloudFormation gives the app's group in the stand-in. */
export const DEPLOYED_GROUP_NAME = 'StandIn-FleetASG7A1B2C3D-4E5F6A7B8C9D';

/** One synthesized stack: its resources and what the stand-in reads of its runtime. */
export interface DeployTemplate {
  readonly resources: Resources;
  readonly runtime?: RuntimeTemplate;
}

/** What a deploy step (or the stack before the run) asks for. */
type StackShape = { readonly hooks?: readonly number[]; readonly layout?: 'earlier'; readonly imageId?: string };

/** What a scenario with `deploy` deploys: a template per step, and the runtime with all its hooks. */
export interface DeploySynthesis {
  readonly groupName: string;
  /** The runtime with every hook of the scenario, for the stand-in's services (rules, documents, parameters, roles). */
  readonly runtime: RuntimeTemplate;
  readonly templateOf: (step: StackShape) => DeployTemplate;
}

const synthCache = new Map<string, DeployTemplate>();

export function synthesizeDeployment(options: ScenarioOptions, names: ResourceNames): DeploySynthesis {
  const deploy = options.deploy!;
  if (options.instances !== 0) throw new Error('with `deploy`, the group launches its own instances: set `instances` to 0');
  const hooks = [options.hook, ...(options.hooks ?? [])];
  const all = hooks.map((_, n) => n);
  const withName = { ...names, groupName: DEPLOYED_GROUP_NAME };
  const templateOf = (step: StackShape): DeployTemplate => {
    const present = step.hooks ?? all;
    const key = JSON.stringify([hooks, present, step.layout, step.imageId, deploy.group, deploy.legacyHookName]);
    let t = synthCache.get(key);
    if (!t) {
      t = synthesizeStack(hooks, present, deploy, withName, step.layout === 'earlier', step.imageId);
      synthCache.set(key, t);
    }
    return t;
  };
  const runtime = templateOf({ hooks: all }).runtime!;
  return { groupName: DEPLOYED_GROUP_NAME, runtime, templateOf };
}

/**
 * One stack with a group of the app (an `AutoScalingGroup` in an imported VPC,
 * so no VPC resources) and the hooks `present` on it; or, for the earlier
 * layout, the group with hook 0 as a separate AWS::AutoScaling::LifecycleHook
 * named as that layout named it by default, served by a function of its own.
 */
function synthesizeStack(
  hooks: readonly HookOptions[], present: readonly number[], deploy: DeployOptions, names: ResourceNames, earlier: boolean, imageId?: string,
): DeployTemplate {
  const app = new App();
  const stack = new Stack(app, 'StandIn', { env: { account: names.account, region: names.region } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0standin',
    availabilityZones: [`${names.region}a`],
    publicSubnetIds: ['subnet-0standin'],
  });
  const policy = deploy.group.creationPolicy;
  const fleet = new autoscaling.AutoScalingGroup(stack, 'Fleet', {
    vpc,
    vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    instanceType: new ec2.InstanceType('t3.micro'),
    machineImage: ec2.MachineImage.genericLinux({ [names.region]: imageId ?? 'ami-0standin0000000' }),
    updatePolicy: deploy.group.updatePolicy === 'replacing' ? autoscaling.UpdatePolicy.replacingUpdate() : undefined,
    minCapacity: 0,
    maxCapacity: Math.max(1, deploy.group.capacity),
    desiredCapacity: deploy.group.capacity,
    signals: policy ? autoscaling.Signals.waitForCount(policy.count, { timeout: Duration.seconds(policy.timeoutSeconds) }) : undefined,
  });
  if (earlier) {
    // The earlier layout: the hook's own function and rule, and a separate lifecycle hook resource
    // named by default from the construct's path, which depended on them.
    const hook = hooks[0];
    const old = new Construct(stack, hookId(0));
    const fn = new lambda.Function(old, 'Handler', {
      runtime: lambda.Runtime.NODEJS_LATEST,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });
    const rule = new events.Rule(old, 'LifecycleActionRule', {
      eventPattern: { source: ['aws.autoscaling'] },
      targets: [new targets.LambdaFunction(fn)],
    });
    const lifecycleHook = new autoscaling.LifecycleHook(old, 'Hook', {
      autoScalingGroup: fleet,
      lifecycleTransition: hookProps(hook, fleet).transition,
      lifecycleHookName: deploy.legacyHookName ?? Names.uniqueResourceName(old, { maxLength: 255, separator: '-' }),
      heartbeatTimeout: Duration.seconds(Math.min(7200, hook.timeoutSeconds + 600)),
      defaultResult: hook.transition === 'launch' ? autoscaling.DefaultResult.ABANDON : autoscaling.DefaultResult.CONTINUE,
    });
    lifecycleHook.node.addDependency(fn, rule);
    return { resources: Template.fromStack(stack).toJSON().Resources as Resources };
  }
  const constructs = present.map((n) => new LifecycleCommandHook(stack, hookId(n),
    hookProps(hooks[n], fleet, n === 0 ? deploy.hookName : undefined)));
  const resources = Template.fromStack(stack).toJSON().Resources as Resources;
  return { resources, runtime: readRuntime(stack, constructs, present.map((n) => hooks[n]), names, resources) };
}

// ---------------------------------------------------------------------------
// The model wired to the world.

/**
 * CloudFormation acting on the stand-in's world: the stack's resources come
 * and go as the scenario's `deploy` steps say, and the runtime's function,
 * rules, roles and parameters, the group and its hooks exist only while their
 * resources do.
 */
export class Deployment implements ResourceHandler {
  readonly cloudformation: CloudFormation;
  /** Every step's final status, in order. */
  readonly outcomes: Array<{ readonly step: string; readonly status: string; readonly atMs: number }> = [];
  /** Signals the stub user-data program sent, and when, virtual ms. */
  readonly signals: number[] = [];
  private readonly rng: Rng;
  private readonly timings: Readonly<Record<string, Range>>;
  private pendingSteps = 0;
  private world!: World;
  /** Each group resource's physical groups, oldest first: two while CloudFormation replaces it. */
  private readonly physical = new Map<string, string[]>();
  /** The app's newest group: the one CloudFormation updates and scales. */
  private current: string;
  /** Groups CloudFormation is deleting: an instance going into service there is scaled in. */
  private readonly deleting = new Set<string>();
  private signalWanted = 0;
  private readonly parameterValues = new Map<string, string>();
  private readonly roleArns = new Map<string, string>();
  /** Called once the creation policy's count of signals has arrived. */
  private onSignalsReached?: () => void;

  constructor(
    private readonly clock: VirtualClock,
    seed: number,
    private readonly synthesis: DeploySynthesis,
    private readonly options: DeployOptions,
  ) {
    this.rng = new Rng(seed * 31_337 + 5);
    this.current = synthesis.groupName;
    this.timings = { ...DEFAULT_TIMINGS, ...options.timingsMs };
    this.cloudformation = new CloudFormation(clock, this);
    for (const h of synthesis.runtime.hooks) {
      this.parameterValues.set(h.parameter.name, h.parameter.value);
      if (h.logicalIds) this.roleArns.set(h.logicalIds.role, h.roleArn);
    }
  }

  /** Whether the resource exists now. */
  exists(logicalId: string | undefined): boolean {
    return this.cloudformation.exists(logicalId);
  }

  /** The app's newest group in the world. */
  private get group(): AutoScalingGroup {
    return this.world.group(this.current);
  }

  /** A stack operation is running, or a step is still to come. */
  get busy(): boolean {
    return this.cloudformation.busy || this.pendingSteps > 0;
  }

  /** Sets the stack up as the scenario starts, and schedules its steps. */
  start(world: World): void {
    this.world = world;
    this.group.exists = false;
    if (this.options.initial) {
      const t = this.synthesis.templateOf(this.options.initial);
      this.cloudformation.adopt(t.resources, (id, r) => {
        this.applyCreate(id, r);
        if (r.Type === 'AWS::AutoScaling::AutoScalingGroup') {
          // Deployed before the run: its instances are in service, their agents online.
          for (let i = 0; i < this.capacityOf(r); i++) {
            const instance = world.addInstance();
            Object.assign(instance, { state: 'InService', ec2Running: true, agent: 'Online' });
          }
        }
      });
    }
    for (const step of this.options.steps) {
      this.pendingSteps++;
      this.clock.schedule(step.atMs, () => {
        this.pendingSteps--;
        this.run(step);
      });
    }
  }

  private run(step: DeployStep): void {
    const record = (status: string) => this.outcomes.push({ step: describeStep(step), status, atMs: this.clock.elapsed });
    switch (step.kind) {
      case 'deploy':
        this.cloudformation.deploy(this.synthesis.templateOf(step).resources, record);
        break;
      case 'delete':
        this.cloudformation.delete(record);
        break;
      case 'scale':
        this.scaleTo(step.desired);
        record('SCALED');
        break;
    }
  }

  // ResourceHandler

  create(id: string, r: Resource, done: (error?: string) => void): void {
    this.after(r.Type, () => {
      if (r.Type !== 'AWS::AutoScaling::AutoScalingGroup') {
        this.applyCreate(id, r);
        done();
        return;
      }
      this.createGroup(id, r, done);
    });
  }

  update(_id: string, before: Resource, after: Resource, done: (error?: string) => void): void {
    this.after(after.Type, () => {
      switch (after.Type) {
        case 'AWS::SSM::Parameter':
          this.world.parameters.put(String(after.Properties!.Name), this.parameterValues.get(String(after.Properties!.Name)) ?? '');
          break;
        case 'AWS::AutoScaling::LifecycleHook':
          this.group.putHook(hookSpecOf(after.Properties!));
          break;
        case 'AWS::AutoScaling::AutoScalingGroup': {
          // In place (no interruption): hooks removed from the list are deleted, new ones put; the tags follow.
          const names = new Set(specsOf(after).map((s) => s.name));
          for (const s of specsOf(before)) if (!names.has(s.name)) this.group.deleteHook(s.name);
          for (const s of specsOf(after)) this.group.putHook(s);
          this.group.tags = tagsOf(after);
          if (this.capacityOf(after) !== this.capacityOf(before)) this.scaleTo(this.capacityOf(after));
          break;
        }
        default:
      }
      done();
    });
  }

  delete(id: string, r: Resource, done: () => void): void {
    if (r.Type === 'AWS::AutoScaling::AutoScalingGroup') {
      // The oldest physical group: the one replaced, or the only one.
      this.deleteGroup(this.physical.get(id)!.shift()!, done);
      return;
    }
    this.after(r.Type, () => {
      switch (r.Type) {
        case 'AWS::IAM::Role': {
          const arn = this.roleArns.get(id);
          if (arn) this.world.sts.deleteRole(arn);
          break;
        }
        case 'AWS::SSM::Parameter':
          this.world.parameters.delete(String(r.Properties!.Name));
          break;
        case 'AWS::AutoScaling::LifecycleHook':
          this.group.deleteHook(String(r.Properties!.LifecycleHookName));
          break;
        default:
      }
      done();
    });
  }

  /** A resource's effect on the world once created (function and rules are checked by `exists`). */
  private applyCreate(id: string, r: Resource): void {
    switch (r.Type) {
      case 'AWS::IAM::Role': {
        const arn = this.roleArns.get(id);
        if (arn) this.world.sts.createRole(arn);
        break;
      }
      case 'AWS::SSM::Parameter': {
        const name = String(r.Properties!.Name);
        const value = this.parameterValues.get(name);
        if (value !== undefined) this.world.parameters.put(name, value);
        break;
      }
      case 'AWS::AutoScaling::LifecycleHook':
        this.group.putHook(hookSpecOf(r.Properties!));
        break;
      case 'AWS::AutoScaling::AutoScalingGroup': {
        // A new physical group: the first keeps the name the world starts with, a replacement gets a name of its own.
        const names = this.physical.get(id) ?? [];
        const name = names.length === 0 ? this.synthesis.groupName : `${this.synthesis.groupName.replace(/-[^-]+$/, '')}-${this.rng.hex(12).toUpperCase()}`;
        const group = names.length === 0 ? this.world.group(name) : this.world.addGroup({ groupName: name, hooks: [] });
        this.physical.set(id, [...names, name]);
        this.current = name;
        group.onInService = (instance) => this.inService(instance);
        group.exists = true;
        group.tags = tagsOf(r);
        for (const s of specsOf(r)) group.putHook(s);
        break;
      }
      default:
    }
  }

  /**
   * CreateAutoScalingGroup with the hooks of its list and its tags, then its
   * capacity launched; with a CreationPolicy, complete once its count of
   * signals arrived, failed at its timeout.
   */
  private createGroup(id: string, r: Resource, done: (error?: string) => void): void {
    this.applyCreate(id, r);
    const capacity = this.capacityOf(r);
    const policy = r.CreationPolicy?.ResourceSignal as { Count?: number | string; Timeout?: string } | undefined;
    if (policy) {
      const count = Number(policy.Count ?? 1);
      const timeoutMs = isoSeconds(policy.Timeout ?? 'PT5M') * 1000;
      this.signalWanted = count;
      let settled = false;
      const timer = this.clock.schedule(timeoutMs, () => {
        if (settled) return;
        settled = true;
        this.signalWanted = 0;
        done(`Failed to receive ${count} resource signal(s) within the specified duration`);
      });
      this.onSignalsReached = () => {
        if (settled) return;
        settled = true;
        this.clock.cancel(timer);
        done();
      };
    }
    this.scaleTo(capacity);
    // Assumption: without a creation policy the group is complete once created, its instances still launching.
    if (!policy) done();
  }

  /** The stub user-data program: once its instance is InService it signals the group's creation policy (cfn-signal). */
  private inService(instance: Instance): void {
    if (this.deleting.has(instance.group)) {
      this.world.groupOf(instance).scaleInNow(instance);
      return;
    }
    if (this.signalWanted === 0) return;
    this.clock.schedule(this.rng.draw([500, 2_000]), () => {
      if (this.signalWanted === 0) return;
      this.signals.push(this.clock.elapsed);
      if (this.signals.length >= this.signalWanted) {
        this.signalWanted = 0;
        this.onSignalsReached?.();
      }
    });
  }

  /** Sets the group's desired capacity: new instances launch (into the hooks it has now), or the newest are scaled in. */
  private scaleTo(desired: number): void {
    const group = this.group;
    const live = this.world.instances.filter((i) => i.group === this.current && i.state !== 'Terminated');
    for (let n = live.length; n < desired; n++) {
      const instance = this.world.addInstance(this.current);
      Object.assign(instance, { state: 'Pending', agent: 'unregistered', ec2Running: false });
      this.clock.schedule(this.rng.draw([0, 3_000]), () => group.launchNew(instance));
    }
    for (const instance of live.slice(desired).reverse()) group.scaleInNow(instance);
  }

  /**
   * Assumption: CloudFormation deletes the group by setting its capacity to 0
   * and waiting for its instances to terminate (through its terminate hooks),
   * then deletes it with its hooks.
   */
  private deleteGroup(name: string, done: () => void): void {
    const group = this.world.group(name);
    const members = () => this.world.instances.filter((i) => i.group === name);
    this.deleting.add(name);
    for (const instance of members()) if (instance.state === 'InService') group.scaleInNow(instance);
    const poll = () => {
      if (members().some((i) => i.state !== 'Terminated')) {
        this.clock.schedule(5_000, poll);
        return;
      }
      this.after('AWS::AutoScaling::AutoScalingGroup', () => {
        for (const h of [...group.hooks]) group.deleteHook(h.name);
        group.exists = false;
        group.tags = [];
        this.deleting.delete(name);
        done();
      });
    };
    poll();
  }

  private capacityOf(r: Resource): number {
    return Number(r.Properties?.DesiredCapacity ?? r.Properties?.MinSize ?? 0);
  }

  private after(type: string, fn: () => void): void {
    this.clock.schedule(this.rng.draw(this.timings[type] ?? this.timings.default), fn);
  }
}

function describeStep(step: DeployStep): string {
  switch (step.kind) {
    case 'deploy': return `deploy ${step.layout === 'earlier' ? 'earlier layout' : `hooks ${(step.hooks ?? []).join(',') || 'all'}`}${step.imageId ? ` on ${step.imageId}` : ''}`;
    case 'delete': return 'delete';
    case 'scale': return `scale to ${step.desired}`;
  }
}

function hookSpecOf(p: Record<string, unknown>): HookSpec {
  return {
    name: String(p.LifecycleHookName),
    transition: p.LifecycleTransition === 'autoscaling:EC2_INSTANCE_LAUNCHING' ? 'launch' : 'terminate',
    heartbeatTimeoutSeconds: Number(p.HeartbeatTimeout ?? 3600),
    defaultResult: (p.DefaultResult ?? 'ABANDON') as LifecycleResult,
    ...(p.NotificationMetadata !== undefined ? { notificationMetadata: String(p.NotificationMetadata) } : {}),
  };
}

function specsOf(r: Resource): HookSpec[] {
  return (r.Properties?.LifecycleHookSpecificationList as Array<Record<string, unknown>> | undefined ?? []).map(hookSpecOf);
}

function tagsOf(r: Resource): Array<{ Key: string; Value: string; PropagateAtLaunch: boolean }> {
  return (r.Properties?.Tags as Array<Record<string, unknown>> | undefined ?? []).map((t) => ({
    Key: String(t.Key),
    Value: String(t.Value),
    PropagateAtLaunch: t.PropagateAtLaunch === true || t.PropagateAtLaunch === 'true',
  }));
}

/** An ISO 8601 duration such as `PT15M`, in seconds. */
function isoSeconds(text: string): number {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(text);
  if (!m) throw new Error(`unsupported duration ${text}`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}
