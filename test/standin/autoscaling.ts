/**
 * EC2 Auto Scaling as the hooks see it: groups, keyed by name, each with its
 * lifecycle hooks, its instances' lifecycle states, lifecycle actions with
 * their heartbeat and global timeouts, the lifecycle events and a warm pool;
 * and the operations the handler calls, each served by the group it names or
 * across the groups (`AutoScaling`, at the end).
 *
 * Sources:
 * - Amazon EC2 Auto Scaling User Guide, "Amazon EC2 Auto Scaling lifecycle
 *   hooks", "Complete a lifecycle action", "Configure a notification target for
 *   lifecycle notifications" (the event shape, Origin/Destination);
 * - the same guide, "Use lifecycle hooks with a warm pool in Auto Scaling
 *   group" (Warmed:Pending:Wait, then Pending:Wait with a new action; on scale
 *   in with instance reuse, the terminate hook's action in Warmed:Pending:Wait);
 * - API Reference: CompleteLifecycleAction, RecordLifecycleActionHeartbeat,
 *   DescribeAutoScalingInstances, DescribeAutoScalingGroups (Instances,
 *   WarmPoolConfiguration), DescribeWarmPool (the pool's instances, paged), PutLifecycleHook (HeartbeatTimeout, global
 *   timeout of 100 heartbeats or 48 hours);
 * - User Guide, "Complete a lifecycle action": for a terminating instance ABANDON
 *   "stops any remaining actions, such as other lifecycle hooks";
 * - the `No active Lifecycle Action found` message is from public logs, not documented;
 * - for CloudFormation's model (cloudformation.ts): API Reference,
 *   DeleteLifecycleHook ("If there are any outstanding lifecycle actions, they
 *   are completed first (ABANDON for launching instances, CONTINUE for
 *   terminating instances)"), DescribeAutoScalingGroups (`Filters` `tag-key`,
 *   `tag-value`, `tag:<key>`; `Tags` of each group), CreateAutoScalingGroup
 *   (`LifecycleHookSpecificationList`: hooks added "before instances are launched");
 * - retention: API Reference, RetentionTriggers ("Retained instances don't
 *   count toward desired capacity and remain until you call
 *   TerminateInstanceInAutoScalingGroup"), User Guide, "Configure instance
 *   retention" (an explicit ABANDON and a heartbeat or global timeout with
 *   DefaultResult ABANDON both retain) and "Manage retained instances"
 *   (`Terminating:Retained`, `Warmed:Pending:Retained`; the instance keeps
 *   running and billing); TerminateInstanceInAutoScalingGroup ("cannot be
 *   called on instances in a warm pool"). What a release does to the terminate
 *   hooks (a new action with a new token) and the refused decrement are from a
 *   public report of live captures, not AWS's documentation (FIDELITY.md).
 * - for several groups: API Reference, DescribeAutoScalingGroups (up to 50
 *   names by default, more with `MaxRecords`; `MaxRecords` 50 by default, at
 *   most 100; `NextToken`), DescribeAutoScalingInstances (the instances of any
 *   group, at most 50 ids and 50 a page).
 */
import type { VirtualClock } from './clock';
import type { Completion, Emit, Instance, LifecycleAction, LifecycleState } from './model';
import { ApiError, asArray, envelope } from './model';
import type { LifecycleResult, Transition, WarmPoolOptions } from './options';
import type { Range, Rng } from './rng';

/** One lifecycle hook of the group. */
export interface HookSpec {
  readonly name: string;
  readonly transition: Transition;
  readonly heartbeatTimeoutSeconds: number;
  readonly defaultResult: LifecycleResult;
  /** Sent with each of the hook's lifecycle events as `NotificationMetadata`. */
  readonly notificationMetadata?: string;
}

/** One group of the world. */
export interface GroupConfig {
  readonly groupName: string;
  readonly hooks: readonly HookSpec[];
  readonly warmPool?: WarmPoolOptions;
  /** With launch and terminate hooks: how long after going into service an instance is scaled in. */
  readonly scaleInAfterMs?: Range;
  /**
   * The group's instance lifecycle policy: with `retain`, an instance whose
   * terminate action is abandoned is retained instead of terminated. @default terminate
   */
  readonly terminateHookAbandon?: 'retain' | 'terminate';
}

/** A group with the account and Region it lives in. */
export interface AutoScalingConfig extends GroupConfig {
  readonly account: string;
  readonly region: string;
}

/** What EC2 does to an instance as Auto Scaling moves it, for the agent and Run Command to follow. */
export interface Ec2Listener {
  /** The instance boots (launch, or a start out of the warm pool). */
  started(instance: Instance): void;
  /** The instance stops (into the warm pool) or terminates. */
  stopped(instance: Instance): void;
}

/** Auto Scaling's global timeout: 48 hours or 100 heartbeats, whichever is smaller. */
const MAX_GLOBAL_TIMEOUT_MS = 172_800_000;

/** One Auto Scaling group: its hooks, its instances and their lifecycle actions. */
export class AutoScalingGroup {
  private ec2!: Ec2Listener;
  /** The group's hooks now, once CloudFormation manages them (`putHook`, `deleteHook`); until then the config's. */
  private live?: HookSpec[];
  /** Every hook the group has had, by name: a deleted hook's actions end by its transition. */
  private readonly known = new Map<string, HookSpec>();
  /** False before CloudFormation has created the group and once it has deleted it; without CloudFormation's model, always. */
  exists = true;
  /** Instances whose next action starts as soon as their current one lets it (`hurry`). */
  private readonly hurried = new Set<Instance>();
  /** The group's tags, as CloudFormation set them. */
  tags: ReadonlyArray<{ readonly Key: string; readonly Value: string; readonly PropagateAtLaunch: boolean }> = [];
  /** Told as an instance goes into service: a stub user-data program signals CloudFormation then. */
  onInService?: (instance: Instance) => void;

  constructor(
    private readonly clock: VirtualClock,
    private readonly rng: Rng,
    readonly config: AutoScalingConfig,
    private readonly instances: readonly Instance[],
    private readonly byId: ReadonlyMap<string, Instance>,
    private readonly emit: Emit,
  ) {}

  connect(ec2: Ec2Listener): void {
    this.ec2 = ec2;
  }

  /** Whether the instance is one of this group's. */
  has(instanceId: unknown): boolean {
    return this.instances.some((i) => i.id === instanceId);
  }

  get groupArn(): string {
    const c = this.config;
    return `arn:aws:autoscaling:${c.region}:${c.account}:autoScalingGroup:6b3e0f4c-1d2a-4c5b-9e8f-0a1b2c3d4e5f:autoScalingGroupName/${c.groupName}`;
  }

  private hooksOf(transition: Transition): HookSpec[] {
    return this.hooks.filter((h) => h.transition === transition);
  }

  /** The group's hooks as they are now. */
  get hooks(): readonly HookSpec[] {
    return this.live ?? this.config.hooks;
  }

  /** Adds or replaces a hook (PutLifecycleHook, or an entry of the group's LifecycleHookSpecificationList): instances entering a wait state from now on wait on it. */
  putHook(hook: HookSpec): void {
    this.live = [...this.hooks.filter((h) => h.name !== hook.name), hook];
    this.known.set(hook.name, hook);
  }

  /**
   * Deletes a hook (DeleteLifecycleHook): its outstanding actions are completed
   * first, ABANDON for launching instances and CONTINUE for terminating ones.
   */
  deleteHook(name: string): void {
    const hook = this.hooks.find((h) => h.name === name);
    if (!hook) return;
    this.live = this.hooks.filter((h) => h !== hook);
    for (const instance of this.instances) {
      const action = instance.actions.find((a) => a.hook === name);
      if (action) this.complete(instance, action, hook.transition === 'launch' ? 'ABANDON' : 'CONTINUE', 'hook-deleted');
    }
  }

  /** A new instance of the group launches (CloudFormation's model): it waits on the launch hooks the group has now, or goes into service. */
  launchNew(instance: Instance): void {
    instance.state = 'Pending';
    this.ec2.started(instance);
    if (this.hooksOf('launch').length > 0) {
      this.startActions(instance, 'launch', 'Pending:Wait', 'EC2', 'AutoScalingGroup');
    } else {
      instance.state = 'InService';
      this.onInService?.(instance);
    }
  }

  /** The group chooses the instance for scale in (CloudFormation's model: the group's capacity lowered, or the group deleted). */
  scaleInNow(instance: Instance): void {
    this.scaleIn(instance);
  }

  /** Whether the scenario's instances are launched (the group has a launch hook) or scaled in. */
  get launches(): boolean {
    return this.hooksOf('launch').length > 0;
  }

  /** The state a new instance starts in: about to launch, or in service for a group with terminate hooks only. */
  initialState(): LifecycleState {
    if (!this.launches) return 'InService';
    return this.config.warmPool ? 'Warmed:Pending' : 'Pending';
  }

  /**
   * The instance launches (into the warm pool if the group has one), or, for a
   * group with terminate hooks only, is chosen for scale-in (back to the warm
   * pool if the group reuses instances), and waits in its hooks.
   */
  enterHook(instance: Instance): void {
    if (this.launches) {
      this.ec2.started(instance);
      if (this.config.warmPool) this.startActions(instance, 'launch', 'Warmed:Pending:Wait', 'EC2', 'WarmPool');
      else this.startActions(instance, 'launch', 'Pending:Wait', 'EC2', 'AutoScalingGroup');
    } else {
      this.scaleIn(instance);
    }
  }

  private scaleIn(instance: Instance): void {
    if (instance.state !== 'InService') return;
    if (this.hooksOf('terminate').length === 0) {
      this.terminate(instance);
    } else if (this.config.warmPool) {
      this.startActions(instance, 'terminate', 'Warmed:Pending:Wait', 'AutoScalingGroup', 'WarmPool');
    } else {
      this.startActions(instance, 'terminate', 'Terminating:Wait', 'AutoScalingGroup', 'EC2');
    }
  }

  /** One action per hook of the transition, each with its token, timers and event. */
  private startActions(instance: Instance, transition: Transition, state: LifecycleState, origin: string, destination: string): void {
    instance.state = state;
    for (const hook of this.hooksOf(transition)) {
      const heartbeatMs = hook.heartbeatTimeoutSeconds * 1000;
      const globalMs = Math.min(MAX_GLOBAL_TIMEOUT_MS, 100 * heartbeatMs);
      const token = this.rng.uuid();
      const action: LifecycleAction = {
        hook: hook.name,
        token,
        startedAt: this.clock.now,
        globalDeadline: this.clock.now + globalMs,
        heartbeatTimer: this.clock.schedule(heartbeatMs, () => this.expire(instance, action)),
        globalTimer: this.clock.schedule(globalMs, () => this.expire(instance, action)),
      };
      instance.actions.push(action);
      const launch = transition === 'launch';
      this.emit(envelope(
        this.rng.uuid(),
        'aws.autoscaling',
        launch ? 'EC2 Instance-launch Lifecycle Action' : 'EC2 Instance-terminate Lifecycle Action',
        this.config.account,
        this.config.region,
        this.clock.now,
        [this.groupArn],
        {
          LifecycleActionToken: token,
          AutoScalingGroupName: this.config.groupName,
          LifecycleHookName: hook.name,
          EC2InstanceId: instance.id,
          LifecycleTransition: launch ? 'autoscaling:EC2_INSTANCE_LAUNCHING' : 'autoscaling:EC2_INSTANCE_TERMINATING',
          Origin: origin,
          Destination: destination,
          ...(hook.notificationMetadata !== undefined ? { NotificationMetadata: hook.notificationMetadata } : {}),
        },
      ), { kind: 'lifecycle', instance: instance.index });
    }
  }

  /** The heartbeat (or global) timeout ran out: Auto Scaling applies the hook's default result. */
  private expire(instance: Instance, action: LifecycleAction): void {
    if (instance.actions.includes(action)) this.complete(instance, action, this.hook(action.hook).defaultResult, 'heartbeat');
  }

  private hook(name: string): HookSpec {
    return this.known.get(name) ?? this.config.hooks.find((h) => h.name === name)!;
  }

  /** Completes the instance's first pending action, as an operator would (none pending: nothing happens). */
  completeAny(instance: Instance, result: LifecycleResult, by: Completion['by']): void {
    const action = instance.actions[0];
    if (action) this.complete(instance, action, result, by);
  }

  /**
   * Ends one action. ABANDON ends the instance's other pending actions too (on a
   * terminate hook it "skips the remaining hooks"); once none is left the
   * instance moves on as the transition and result say.
   */
  complete(instance: Instance, action: LifecycleAction, result: LifecycleResult, by: Completion['by'], invocation?: string): void {
    if (!instance.actions.includes(action)) return;
    const ending = result === 'ABANDON' ? [...instance.actions] : [action];
    for (const a of ending) {
      this.clock.cancel(a.heartbeatTimer);
      this.clock.cancel(a.globalTimer);
      instance.actions.splice(instance.actions.indexOf(a), 1);
    }
    const from = instance.state;
    instance.completions.push({ result, by, atMs: this.clock.elapsed, invocation, state: from, hook: action.hook, token: action.token });
    if (instance.actions.length > 0) return;
    const transition = this.hook(action.hook).transition;
    if (transition === 'terminate') {
      // An abandoned terminate action on a group that retains: the instance stays, running, until released.
      if (result === 'ABANDON' && this.config.terminateHookAbandon === 'retain' && instance.exists) {
        instance.state = from === 'Warmed:Pending:Wait' ? 'Warmed:Pending:Retained' : 'Terminating:Retained';
        return;
      }
      // Both results let the transition go on: back to the pool, or terminated.
      if (from === 'Warmed:Pending:Wait') this.stop(instance);
      else this.terminate(instance);
      return;
    }
    if (result === 'ABANDON' || !instance.exists) {
      this.terminate(instance);
    } else if (from === 'Warmed:Pending:Wait') {
      // Warmed up: the instance stops in the pool, and leaves it later for the group.
      this.stop(instance);
      const leave = this.config.warmPool?.leaveAfterMs ?? [60_000, 120_000];
      const after = this.rng.draw(leave);
      this.clock.schedule(this.hurried.has(instance) ? 0 : after, () => this.leaveWarmPool(instance));
    } else if (instance.ec2Running) {
      instance.state = 'InService';
      this.onInService?.(instance);
      const after = this.config.scaleInAfterMs;
      if (after !== undefined) this.clock.schedule(this.rng.draw(after), () => this.scaleIn(instance));
    } else {
      this.terminate(instance);
    }
  }

  /** The stopped instance starts for the group: its next action (launch hooks with a warm pool). */
  private leaveWarmPool(instance: Instance): void {
    if (instance.state !== 'Warmed:Stopped') return;
    this.ec2.started(instance);
    this.startActions(instance, 'launch', 'Pending:Wait', 'WarmPool', 'AutoScalingGroup');
  }

  /** The group needs the instance from its warm pool now: its next action starts as soon as its current one ends (a call point's `next-action`). */
  hurry(instance: Instance): void {
    this.hurried.add(instance);
    this.leaveWarmPool(instance);
  }

  private stop(instance: Instance): void {
    instance.state = 'Warmed:Stopped';
    this.ec2.stopped(instance);
  }

  private terminate(instance: Instance): void {
    instance.state = 'Terminated';
    instance.exists = false;
    this.ec2.stopped(instance);
  }

  /** The EC2 instance is terminated behind Auto Scaling's back; pending actions stay until they end. */
  disappear(instance: Instance): void {
    instance.exists = false;
    this.ec2.stopped(instance);
    if (instance.actions.length === 0 && instance.state !== 'Terminated') instance.state = 'Terminated';
  }

  /**
   * TerminateInstanceInAutoScalingGroup, as an operator calls it to release a
   * retained instance (or to scale one in): the instance goes through the
   * group's terminate hooks again, each with a new action and token, and
   * terminates once they complete (or is retained again if one is abandoned).
   */
  terminateInstanceInAutoScalingGroup(p: Record<string, unknown>): Record<string, unknown> {
    if (typeof p.ShouldDecrementDesiredCapacity !== 'boolean') {
      throw new ApiError('ValidationError', '1 validation error detected: Value null at \'shouldDecrementDesiredCapacity\' failed to satisfy constraint: Member must not be null');
    }
    const found = typeof p.InstanceId === 'string' ? this.byId.get(p.InstanceId) : undefined;
    const instance = found && this.instances.includes(found) ? found : undefined;
    if (!instance || !this.launched(instance)) {
      throw new ApiError('ValidationError', `Instance Id not found - No managed instance found for instance ID: ${String(p.InstanceId)}`);
    }
    if (instance.state.startsWith('Warmed:')) {
      throw new ApiError('ValidationError', `The instance ${instance.id} is in a warm pool; TerminateInstanceInAutoScalingGroup cannot be called on instances in a warm pool.`);
    }
    if (instance.state === 'Terminating:Retained') {
      if (p.ShouldDecrementDesiredCapacity) {
        throw new ApiError('ValidationError', `The instance ${instance.id} is retained: it is not part of the desired capacity, which cannot be decremented for it.`);
      }
      instance.state = 'InService';
    }
    if (instance.state !== 'InService') {
      throw new ApiError('ValidationError', `The instance ${instance.id} is in state ${instance.state} and cannot be terminated now.`);
    }
    if (this.hooksOf('terminate').length === 0) this.terminate(instance);
    else this.startActions(instance, 'terminate', 'Terminating:Wait', 'AutoScalingGroup', 'EC2');
    return { Activity: { ActivityId: this.rng.uuid(), AutoScalingGroupName: this.config.groupName, StatusCode: 'InProgress' } };
  }

  completeLifecycleAction(p: Record<string, unknown>, invocation?: string): Record<string, unknown> {
    const { instance, action } = this.findAction(p);
    const result = p.LifecycleActionResult;
    if (result !== 'CONTINUE' && result !== 'ABANDON') {
      throw new ApiError('ValidationError', `Invalid LifecycleActionResult: ${String(result)}. Valid values are CONTINUE and ABANDON.`);
    }
    this.complete(instance, action, result, 'api', invocation);
    return {};
  }

  recordLifecycleActionHeartbeat(p: Record<string, unknown>): Record<string, unknown> {
    const { instance, action } = this.findAction(p);
    this.clock.cancel(action.heartbeatTimer);
    const heartbeatMs = this.hook(action.hook).heartbeatTimeoutSeconds * 1000;
    const until = Math.min(this.clock.now + heartbeatMs, action.globalDeadline);
    action.heartbeatTimer = this.clock.schedule(until - this.clock.now, () => this.expire(instance, action));
    return {};
  }

  /** The group's instances among `ids` (all, without ids), as DescribeAutoScalingInstances lists them. */
  describedInstances(ids: readonly string[]): Array<Record<string, unknown>> {
    return this.instances
      .filter((i) => i.state !== 'Terminated' && i.state !== 'Pending' && i.state !== 'Warmed:Pending'
        && (ids.length === 0 || ids.includes(i.id)))
      .map((i) => ({
        InstanceId: i.id,
        InstanceType: 't3.micro',
        AutoScalingGroupName: this.config.groupName,
        AvailabilityZone: `${this.config.region}a`,
        LifecycleState: i.state,
        HealthStatus: i.exists ? 'HEALTHY' : 'UNHEALTHY',
        ProtectedFromScaleIn: false,
      }));
  }

  /**
   * The group with its instances and, if any, its warm pool's configuration,
   * when the call's names and filters select it. Instances in the warm pool
   * are not listed (DescribeWarmPool lists them).
   */
  described(p: Record<string, unknown>): Record<string, unknown> | undefined {
    const names = asArray(p.AutoScalingGroupNames).map(String);
    if (names.length > 0 && !names.includes(this.config.groupName)) return undefined;
    if (!this.exists || !this.matchesFilters(p)) return undefined;
    const c = this.config;
    return {
      AutoScalingGroupName: c.groupName,
      AutoScalingGroupARN: this.groupArn,
      MinSize: 0,
      MaxSize: this.instances.length,
      DesiredCapacity: this.instances.length,
      DefaultCooldown: 300,
      AvailabilityZones: [`${c.region}a`],
      HealthCheckType: 'EC2',
      CreatedTime: new Date(0),
      Instances: this.instances
        .filter((i) => this.launched(i) && !i.state.startsWith('Warmed:'))
        .map((i) => this.instanceShape(i)),
      ...(c.warmPool ? { WarmPoolConfiguration: { MinSize: 0, PoolState: 'Stopped' }, WarmPoolSize: this.warmInstances().length } : {}),
      ...(this.tags.length > 0 ? {
        Tags: this.tags.map((t) => ({ ResourceId: c.groupName, ResourceType: 'auto-scaling-group', ...t })),
      } : {}),
    };
  }

  /**
   * DescribeAutoScalingGroups' `Filters` (`Filters.member.N.Name`,
   * `Filters.member.N.Values.member.M` on the wire): `tag-key`, `tag-value` and
   * `tag:<key>`; a filter's values are alternatives, filters all apply.
   */
  private matchesFilters(p: Record<string, unknown>): boolean {
    const filters = new Map<string, { name?: string; values: string[] }>();
    for (const [key, value] of Object.entries(p)) {
      const m = /^Filters\.member\.(\d+)\.(Name|Values\.member\.\d+)$/.exec(key);
      if (!m) continue;
      const f = filters.get(m[1]) ?? { values: [] };
      if (m[2] === 'Name') f.name = String(value);
      else f.values.push(String(value));
      filters.set(m[1], f);
    }
    return [...filters.values()].every((f) => {
      if (f.name === 'tag-key') return this.tags.some((t) => f.values.includes(t.Key));
      if (f.name === 'tag-value') return this.tags.some((t) => f.values.includes(t.Value));
      if (f.name?.startsWith('tag:')) return this.tags.some((t) => t.Key === f.name!.slice(4) && f.values.includes(t.Value));
      throw new ApiError('ValidationError', `The stand-in does not filter groups by ${String(f.name)}`);
    });
  }

  /** The warm pool's instances, 50 a page by default (the API's MaxRecords). */
  describeWarmPool(p: Record<string, unknown>): Record<string, unknown> {
    if (p.AutoScalingGroupName !== this.config.groupName) {
      throw new ApiError('ValidationError', `AutoScalingGroup name not found - ${String(p.AutoScalingGroupName)}`);
    }
    if (!this.config.warmPool) return { Instances: [] };
    const max = Math.min(Number(p.MaxRecords ?? 50), 50);
    const start = Number(p.NextToken ?? 0);
    const listed = this.warmInstances();
    return {
      WarmPoolConfiguration: { MinSize: 0, PoolState: 'Stopped' },
      Instances: listed.slice(start, start + max).map((i) => this.instanceShape(i)),
      ...(start + max < listed.length ? { NextToken: String(start + max) } : {}),
    };
  }

  /** Not yet launched (the stand-in's `Pending` and `Warmed:Pending` before the hook) or gone: not listed. */
  private launched(i: Instance): boolean {
    return i.state !== 'Terminated' && i.state !== 'Pending' && i.state !== 'Warmed:Pending';
  }

  private warmInstances(): Instance[] {
    return this.instances.filter((i) => this.launched(i) && i.state.startsWith('Warmed:'));
  }

  private instanceShape(i: Instance): Record<string, unknown> {
    return {
      InstanceId: i.id,
      InstanceType: 't3.micro',
      AvailabilityZone: `${this.config.region}a`,
      LifecycleState: i.state,
      HealthStatus: i.exists ? 'Healthy' : 'Unhealthy',
      ProtectedFromScaleIn: false,
    };
  }

  /** The pending action a call names, by hook and token or instance id. */
  findAction(p: Record<string, unknown>): { instance: Instance; action: LifecycleAction } {
    if (p.AutoScalingGroupName !== this.config.groupName || !this.exists) {
      throw new ApiError('ValidationError', `AutoScalingGroup name not found - ${String(p.AutoScalingGroupName)}`);
    }
    const hook = this.hooks.find((h) => h.name === p.LifecycleHookName);
    if (!hook) {
      throw new ApiError('ValidationError', `No Lifecycle Hook found with name ${String(p.LifecycleHookName)} for group ${this.config.groupName}`);
    }
    const ofHook = (i: Instance | undefined) => i?.actions.find((a) => a.hook === hook.name);
    if (typeof p.LifecycleActionToken === 'string') {
      const instance = this.instances.find((i) => ofHook(i)?.token === p.LifecycleActionToken);
      if (!instance || (p.InstanceId !== undefined && instance.id !== p.InstanceId)) {
        throw new ApiError('ValidationError', `No active Lifecycle Action found with token ${p.LifecycleActionToken}`);
      }
      return { instance, action: ofHook(instance)! };
    }
    if (typeof p.InstanceId !== 'string') {
      throw new ApiError('ValidationError', 'Either LifecycleActionToken or InstanceId must be specified.');
    }
    // An instance of another group is not this group's, even with a hook of the same name.
    const found = this.byId.get(p.InstanceId);
    const instance = found && this.instances.includes(found) ? found : undefined;
    const action = ofHook(instance);
    if (!instance || !action) throw new ApiError('ValidationError', `No active Lifecycle Action found with instance ID ${p.InstanceId}`);
    return { instance, action };
  }
}

/**
 * The Auto Scaling API over the world's groups, keyed by name: a call naming
 * a group goes to it (an unknown or deleted group is a `ValidationError`);
 * the describe calls look across the groups and page their answers.
 */
export class AutoScaling {
  private readonly groups = new Map<string, AutoScalingGroup>();

  /** Adds a group (created before the run, or by CloudFormation's model). */
  add(group: AutoScalingGroup): void {
    if (this.groups.has(group.config.groupName)) throw new Error(`a group named ${group.config.groupName} exists already`);
    this.groups.set(group.config.groupName, group);
  }

  /** The group of this name, if the world has one. */
  find(name: string): AutoScalingGroup | undefined {
    return this.groups.get(name);
  }

  /** Every group, in the order they were added. */
  get all(): readonly AutoScalingGroup[] {
    return [...this.groups.values()];
  }

  private named(p: Record<string, unknown>): AutoScalingGroup {
    const group = this.groups.get(String(p.AutoScalingGroupName));
    if (!group || !group.exists) throw new ApiError('ValidationError', `AutoScalingGroup name not found - ${String(p.AutoScalingGroupName)}`);
    return group;
  }

  completeLifecycleAction(p: Record<string, unknown>, invocation?: string): Record<string, unknown> {
    return this.named(p).completeLifecycleAction(p, invocation);
  }

  /** TerminateInstanceInAutoScalingGroup names the instance alone: the group that has it answers. */
  terminateInstanceInAutoScalingGroup(p: Record<string, unknown>): Record<string, unknown> {
    const group = this.all.find((g) => g.has(p.InstanceId));
    if (!group) throw new ApiError('ValidationError', `Instance Id not found - No managed instance found for instance ID: ${String(p.InstanceId)}`);
    return group.terminateInstanceInAutoScalingGroup(p);
  }

  recordLifecycleActionHeartbeat(p: Record<string, unknown>): Record<string, unknown> {
    return this.named(p).recordLifecycleActionHeartbeat(p);
  }

  describeWarmPool(p: Record<string, unknown>): Record<string, unknown> {
    return this.named(p).describeWarmPool(p);
  }

  /** The instances of every group (those named, or all), 50 a page at most. */
  describeAutoScalingInstances(p: Record<string, unknown>): Record<string, unknown> {
    const ids = asArray(p.InstanceIds).map(String);
    if (ids.length > 50) throw new ApiError('ValidationError', 'The number of instance ids that may be passed in is 50.');
    const max = Math.min(Number(p.MaxRecords ?? 50), 50);
    const start = Number(p.NextToken ?? 0);
    const listed = this.all.flatMap((g) => g.describedInstances(ids));
    return {
      AutoScalingInstances: listed.slice(start, start + max),
      ...(start + max < listed.length ? { NextToken: String(start + max) } : {}),
    };
  }

  /** The groups the names and filters select (all, without either), `MaxRecords` a page: 50 by default, at most 100. */
  describeAutoScalingGroups(p: Record<string, unknown>): Record<string, unknown> {
    const max = Number(p.MaxRecords ?? 50);
    if (!(max >= 1 && max <= 100)) throw new ApiError('ValidationError', `MaxRecords must be between 1 and 100, got ${String(p.MaxRecords)}`);
    const names = asArray(p.AutoScalingGroupNames);
    if (names.length > Math.max(50, max)) throw new ApiError('ValidationError', `At most ${Math.max(50, max)} group names may be given`);
    const start = Number(p.NextToken ?? 0);
    const listed = this.all.flatMap((g) => g.described(p) ?? []);
    return {
      AutoScalingGroups: listed.slice(start, start + max),
      ...(start + max < listed.length ? { NextToken: String(start + max) } : {}),
    };
  }
}
