/**
 * EC2 Auto Scaling as the hook sees it: one group with the hook, its
 * instances' lifecycle states, lifecycle actions with their heartbeat and
 * global timeouts, the lifecycle events, a warm pool, and the three operations
 * the handler calls.
 *
 * Sources:
 * - Amazon EC2 Auto Scaling User Guide, "Amazon EC2 Auto Scaling lifecycle
 *   hooks", "Complete a lifecycle action", "Configure a notification target for
 *   lifecycle notifications" (the event shape, Origin/Destination);
 * - the same guide, "Use lifecycle hooks with a warm pool in Auto Scaling
 *   group" (Warmed:Pending:Wait, then Pending:Wait with a new action; on scale
 *   in with instance reuse, the terminate hook's action in Warmed:Pending:Wait);
 * - API Reference: CompleteLifecycleAction, RecordLifecycleActionHeartbeat,
 *   DescribeAutoScalingInstances, PutLifecycleHook (HeartbeatTimeout, global
 *   timeout of 100 heartbeats or 48 hours);
 * - the `No active Lifecycle Action found` message is from public logs, not documented.
 */
import type { VirtualClock } from './clock';
import type { Completion, Emit, Instance, LifecycleState } from './model';
import { ApiError, asArray, envelope } from './model';
import type { LifecycleResult, Transition, WarmPoolOptions } from './options';
import type { Rng } from './rng';

export interface AutoScalingConfig {
  readonly account: string;
  readonly region: string;
  readonly groupName: string;
  readonly hookName: string;
  readonly transition: Transition;
  readonly heartbeatTimeoutSeconds: number;
  readonly defaultResult: LifecycleResult;
  readonly warmPool?: WarmPoolOptions;
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

export class AutoScaling {
  private ec2!: Ec2Listener;

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

  get groupArn(): string {
    const c = this.config;
    return `arn:aws:autoscaling:${c.region}:${c.account}:autoScalingGroup:6b3e0f4c-1d2a-4c5b-9e8f-0a1b2c3d4e5f:autoScalingGroupName/${c.groupName}`;
  }

  /** The state a new instance starts in: about to launch for a launch hook, in service for a terminate hook. */
  initialState(): LifecycleState {
    if (this.config.transition === 'terminate') return 'InService';
    return this.config.warmPool ? 'Warmed:Pending' : 'Pending';
  }

  /**
   * The instance launches (launch hook; into the warm pool if the group has one)
   * or is chosen for scale-in (terminate hook; back to the warm pool if the
   * group reuses instances), and enters the hook's wait state.
   */
  enterHook(instance: Instance): void {
    const pool = this.config.warmPool !== undefined;
    if (this.config.transition === 'launch') {
      this.ec2.started(instance);
      if (pool) this.startAction(instance, 'Warmed:Pending:Wait', 'EC2', 'WarmPool');
      else this.startAction(instance, 'Pending:Wait', 'EC2', 'AutoScalingGroup');
    } else if (pool) {
      this.startAction(instance, 'Warmed:Pending:Wait', 'AutoScalingGroup', 'WarmPool');
    } else {
      this.startAction(instance, 'Terminating:Wait', 'AutoScalingGroup', 'EC2');
    }
  }

  private startAction(instance: Instance, state: LifecycleState, origin: string, destination: string): void {
    instance.state = state;
    const heartbeatMs = this.config.heartbeatTimeoutSeconds * 1000;
    const globalMs = Math.min(MAX_GLOBAL_TIMEOUT_MS, 100 * heartbeatMs);
    const token = this.rng.uuid();
    instance.action = {
      token,
      startedAt: this.clock.now,
      globalDeadline: this.clock.now + globalMs,
      heartbeatTimer: this.clock.schedule(heartbeatMs, () => this.expire(instance)),
      globalTimer: this.clock.schedule(globalMs, () => this.expire(instance)),
    };
    const launch = this.config.transition === 'launch';
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
        LifecycleHookName: this.config.hookName,
        EC2InstanceId: instance.id,
        LifecycleTransition: launch ? 'autoscaling:EC2_INSTANCE_LAUNCHING' : 'autoscaling:EC2_INSTANCE_TERMINATING',
        Origin: origin,
        Destination: destination,
      },
    ), { kind: 'lifecycle', instance: instance.index });
  }

  /** The heartbeat (or global) timeout ran out: Auto Scaling applies the hook's default result. */
  private expire(instance: Instance): void {
    if (instance.action) this.complete(instance, this.config.defaultResult, 'heartbeat');
  }

  /** Ends the pending action; the instance moves on as the transition and result say. */
  complete(instance: Instance, result: LifecycleResult, by: Completion['by'], invocation?: string): void {
    const action = instance.action;
    if (!action) return;
    this.clock.cancel(action.heartbeatTimer);
    this.clock.cancel(action.globalTimer);
    instance.action = undefined;
    const from = instance.state;
    instance.completions.push({ result, by, atMs: this.clock.elapsed, invocation, state: from });
    if (this.config.transition === 'terminate') {
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
      this.clock.schedule(this.rng.draw(leave), () => {
        if (instance.state !== 'Warmed:Stopped') return;
        this.ec2.started(instance);
        this.startAction(instance, 'Pending:Wait', 'WarmPool', 'AutoScalingGroup');
      });
    } else if (instance.ec2Running) {
      instance.state = 'InService';
    } else {
      this.terminate(instance);
    }
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

  /** The EC2 instance is terminated behind Auto Scaling's back; a pending action stays until it ends. */
  disappear(instance: Instance): void {
    instance.exists = false;
    this.ec2.stopped(instance);
    if (!instance.action && instance.state !== 'Terminated') instance.state = 'Terminated';
  }

  completeLifecycleAction(p: Record<string, unknown>, invocation?: string): Record<string, unknown> {
    const instance = this.findAction(p);
    const result = p.LifecycleActionResult;
    if (result !== 'CONTINUE' && result !== 'ABANDON') {
      throw new ApiError('ValidationError', `Invalid LifecycleActionResult: ${String(result)}. Valid values are CONTINUE and ABANDON.`);
    }
    this.complete(instance, result, 'api', invocation);
    return {};
  }

  recordLifecycleActionHeartbeat(p: Record<string, unknown>): Record<string, unknown> {
    const instance = this.findAction(p);
    const action = instance.action!;
    this.clock.cancel(action.heartbeatTimer);
    const until = Math.min(this.clock.now + this.config.heartbeatTimeoutSeconds * 1000, action.globalDeadline);
    action.heartbeatTimer = this.clock.schedule(until - this.clock.now, () => this.expire(instance));
    return {};
  }

  describeAutoScalingInstances(p: Record<string, unknown>): Record<string, unknown> {
    const ids = asArray(p.InstanceIds).map(String);
    if (ids.length > 50) throw new ApiError('ValidationError', 'The number of instance ids that may be passed in is 50.');
    const max = Math.min(Number(p.MaxRecords ?? 50), 50);
    const start = Number(p.NextToken ?? 0);
    const listed = this.instances
      .filter((i) => i.state !== 'Terminated' && i.state !== 'Pending' && i.state !== 'Warmed:Pending'
        && (ids.length === 0 || ids.includes(i.id)));
    const page = listed.slice(start, start + max);
    return {
      AutoScalingInstances: page.map((i) => ({
        InstanceId: i.id,
        InstanceType: 't3.micro',
        AutoScalingGroupName: this.config.groupName,
        AvailabilityZone: `${this.config.region}a`,
        LifecycleState: i.state,
        HealthStatus: i.exists ? 'HEALTHY' : 'UNHEALTHY',
        ProtectedFromScaleIn: false,
      })),
      ...(start + max < listed.length ? { NextToken: String(start + max) } : {}),
    };
  }

  /** The instance whose pending action a call names, by token or instance id. */
  findAction(p: Record<string, unknown>): Instance {
    if (p.AutoScalingGroupName !== this.config.groupName) {
      throw new ApiError('ValidationError', `AutoScalingGroup name not found - ${String(p.AutoScalingGroupName)}`);
    }
    if (p.LifecycleHookName !== this.config.hookName) {
      throw new ApiError('ValidationError', `No Lifecycle Hook found with name ${String(p.LifecycleHookName)} for group ${this.config.groupName}`);
    }
    if (typeof p.LifecycleActionToken === 'string') {
      const instance = this.instances.find((i) => i.action?.token === p.LifecycleActionToken);
      if (!instance || (p.InstanceId !== undefined && instance.id !== p.InstanceId)) {
        throw new ApiError('ValidationError', `No active Lifecycle Action found with token ${p.LifecycleActionToken}`);
      }
      return instance;
    }
    if (typeof p.InstanceId !== 'string') {
      throw new ApiError('ValidationError', 'Either LifecycleActionToken or InstanceId must be specified.');
    }
    const instance = this.byId.get(p.InstanceId);
    if (!instance?.action) throw new ApiError('ValidationError', `No active Lifecycle Action found with instance ID ${p.InstanceId}`);
    return instance;
  }
}
