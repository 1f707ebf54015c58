/**
 * The state behind the stand-in's APIs: one Auto Scaling group with one
 * lifecycle hook, its instances and their SSM agents, and SSM Run Command with
 * the hook's document. Operations take the decoded request parameters and
 * return plain objects; the server puts them on the wire.
 */
import type { VirtualClock } from './clock';
import { RealDate } from './clock';
import type {
  AgentOptions,
  CommandOptions,
  Happening,
  InstanceOverride,
  LifecycleResult,
  Transition,
} from './options';
import type { Rng } from './rng';

/** An error answered on the wire with this code and HTTP status. */
export class ApiError extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) {
    super(message);
  }
}

export type LifecycleState = 'Pending' | 'Pending:Wait' | 'InService' | 'Terminating:Wait' | 'Terminated';
export type AgentStatus = 'unregistered' | 'Online' | 'ConnectionLost';
export type InvocationStatus = 'Pending' | 'InProgress' | 'Success' | 'Failed' | 'TimedOut' | 'Cancelled' | 'Undeliverable';

/** How a lifecycle action ended: through the API, by its heartbeat timeout, or completed by someone else. */
export interface Completion {
  readonly result: LifecycleResult;
  readonly by: 'api' | 'heartbeat' | 'operator';
  readonly atMs: number;
  /** The Lambda invocation that completed it, for `api`. */
  readonly invocation?: string;
  /** The token of the action completed. */
  readonly token: string;
}

interface LifecycleAction {
  readonly token: string;
  readonly startedAt: number;
  readonly globalDeadline: number;
  heartbeatTimer: number;
  readonly globalTimer: number;
}

export interface Instance {
  readonly index: number;
  readonly id: string;
  state: LifecycleState;
  /** False once the EC2 instance is gone. */
  ec2Running: boolean;
  agent: AgentStatus;
  action?: LifecycleAction;
  /** Every lifecycle action of the instance, in order (normally one). */
  readonly completions: Completion[];
  readonly commandIds: string[];
  readonly agentOptions: AgentOptions;
  readonly commandOptions: CommandOptions;
}

export interface Invocation {
  readonly commandId: string;
  readonly instance: Instance;
  status: InvocationStatus;
  statusDetails: string;
  responseCode: number;
  startedAt?: number;
  endedAt?: number;
  finishTimer?: number;
  deliveryTimer?: number;
}

export interface Command {
  readonly id: string;
  readonly documentName: string;
  readonly comment: string;
  readonly requestedAt: number;
  readonly visibleAt: number;
  readonly deliveryTimeoutSeconds: number;
  readonly outputLogGroup?: string;
  readonly invocations: Invocation[];
  status: string;
  /** The Lambda invocation that sent it. */
  readonly sentBy?: string;
}

/** What an emitted event is about, so delivery faults can select it without parsing it. */
export interface EventMeta {
  readonly kind: 'lifecycle' | 'command-status' | 'command';
  readonly instance?: number;
  readonly status?: string;
}

export type Emit = (event: Record<string, unknown>, meta: EventMeta) => void;

export interface WorldConfig {
  readonly account: string;
  readonly region: string;
  readonly groupName: string;
  readonly hookName: string;
  readonly transition: Transition;
  readonly heartbeatTimeoutSeconds: number;
  readonly defaultResult: LifecycleResult;
  readonly documentName: string;
  /** The document step's `timeoutSeconds`: the commands' execution timeout. */
  readonly executionTimeoutSeconds: number;
  readonly visibilityLagMs: number;
  readonly agent: AgentOptions;
  readonly command: CommandOptions;
  readonly overrides: readonly InstanceOverride[];
}

const TERMINAL: readonly InvocationStatus[] = ['Success', 'Failed', 'TimedOut', 'Cancelled', 'Undeliverable'];
const DETAILS: Record<InvocationStatus, string> = {
  Pending: 'Pending',
  InProgress: 'InProgress',
  Success: 'Success',
  Failed: 'Failed',
  TimedOut: 'ExecutionTimedOut',
  Cancelled: 'Cancelled',
  Undeliverable: 'Undeliverable',
};
const INSTANCE_ID = /^(i|mi)-[0-9a-f]{8,17}$/;
/** Auto Scaling's global timeout: 48 hours or 100 heartbeats, whichever is smaller. */
const MAX_GLOBAL_TIMEOUT_MS = 172_800_000;

export class World {
  readonly instances: Instance[] = [];
  readonly commands: Command[] = [];
  private readonly byId = new Map<string, Instance>();
  private readonly commandById = new Map<string, Command>();
  /** Invocations waiting for their agent to come back online. */
  private readonly waitingForAgent = new Set<Invocation>();

  constructor(
    private readonly clock: VirtualClock,
    private readonly rng: Rng,
    readonly config: WorldConfig,
    private readonly emit: Emit,
  ) {}

  get groupArn(): string {
    const c = this.config;
    return `arn:aws:autoscaling:${c.region}:${c.account}:autoScalingGroup:6b3e0f4c-1d2a-4c5b-9e8f-0a1b2c3d4e5f:autoScalingGroupName/${c.groupName}`;
  }

  /** Adds an instance: in service with a registered agent for a terminate hook, about to launch for a launch hook. */
  addInstance(): Instance {
    const index = this.instances.length;
    const agentOptions: AgentOptions = { ...this.config.agent };
    const commandOptions: CommandOptions = { ...this.config.command };
    for (const o of this.config.overrides) {
      if (!o.instances.includes(index)) continue;
      const { instances: _, ...rest } = o;
      for (const [k, v] of Object.entries(rest)) {
        if (v === undefined) continue;
        if (k === 'registrationDelayMs' || k === 'pickupMs') (agentOptions as Record<string, unknown>)[k] = v;
        else (commandOptions as Record<string, unknown>)[k] = v;
      }
    }
    const launching = this.config.transition === 'launch';
    const instance: Instance = {
      index,
      id: `i-0${this.rng.hex(16)}`,
      state: launching ? 'Pending' : 'InService',
      ec2Running: true,
      agent: launching ? 'unregistered' : 'Online',
      completions: [],
      commandIds: [],
      agentOptions,
      commandOptions,
    };
    this.instances.push(instance);
    this.byId.set(instance.id, instance);
    return instance;
  }

  /** The instance launches (launch hook) or is chosen for scale-in (terminate hook) and enters the hook's wait state. */
  enterHook(instance: Instance): void {
    if (this.config.transition === 'launch') {
      instance.state = 'Pending:Wait';
      const delay = instance.agentOptions.registrationDelayMs ?? [15_000, 45_000];
      if (delay !== 'never') {
        this.clock.schedule(this.rng.draw(delay), () => {
          if (instance.ec2Running && instance.agent === 'unregistered') this.setAgent(instance, 'Online');
        });
      }
    } else {
      instance.state = 'Terminating:Wait';
    }
    this.startAction(instance);
  }

  private startAction(instance: Instance): void {
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
    this.emit({
      'version': '0',
      'id': this.rng.uuid(),
      'detail-type': launch ? 'EC2 Instance-launch Lifecycle Action' : 'EC2 Instance-terminate Lifecycle Action',
      'source': 'aws.autoscaling',
      'account': this.config.account,
      'time': iso(this.clock.now),
      'region': this.config.region,
      'resources': [this.groupArn],
      'detail': {
        LifecycleActionToken: token,
        AutoScalingGroupName: this.config.groupName,
        LifecycleHookName: this.config.hookName,
        EC2InstanceId: instance.id,
        LifecycleTransition: launch ? 'autoscaling:EC2_INSTANCE_LAUNCHING' : 'autoscaling:EC2_INSTANCE_TERMINATING',
        Origin: launch ? 'EC2' : 'AutoScalingGroup',
        Destination: launch ? 'AutoScalingGroup' : 'EC2',
      },
    }, { kind: 'lifecycle', instance: instance.index });
  }

  /** The heartbeat (or global) timeout ran out: Auto Scaling applies the hook's default result. */
  private expire(instance: Instance): void {
    if (instance.action) this.complete(instance, this.config.defaultResult, 'heartbeat');
  }

  private complete(instance: Instance, result: LifecycleResult, by: Completion['by'], invocation?: string): void {
    const action = instance.action;
    if (!action) return;
    this.clock.cancel(action.heartbeatTimer);
    this.clock.cancel(action.globalTimer);
    instance.action = undefined;
    instance.completions.push({ result, by, atMs: this.clock.elapsed, invocation, token: action.token });
    if (this.config.transition === 'launch' && result === 'CONTINUE' && instance.ec2Running) {
      instance.state = 'InService';
    } else {
      // ABANDON on launch, either result on terminate: the instance terminates.
      instance.state = 'Terminated';
      this.stopEc2(instance);
    }
  }

  /** Applies a happening to an instance. */
  happen(instance: Instance, happening: Happening): void {
    switch (happening) {
      case 'disappear':
        this.stopEc2(instance);
        if (!instance.action && instance.state !== 'Terminated') instance.state = 'Terminated';
        break;
      case 'agent-offline':
        if (instance.agent === 'Online') this.setAgent(instance, 'ConnectionLost');
        break;
      case 'agent-online':
        if (instance.ec2Running) this.setAgent(instance, 'Online');
        break;
      case 'complete-continue':
        this.complete(instance, 'CONTINUE', 'operator');
        break;
      case 'complete-abandon':
        this.complete(instance, 'ABANDON', 'operator');
        break;
      case 'cancel-commands':
        for (const id of instance.commandIds) {
          const inv = this.commandById.get(id)?.invocations.find((i) => i.instance === instance);
          if (inv && !TERMINAL.includes(inv.status)) {
            this.waitingForAgent.delete(inv);
            this.finish(inv, 'Cancelled');
          }
        }
        break;
    }
  }

  private stopEc2(instance: Instance): void {
    if (!instance.ec2Running) return;
    instance.ec2Running = false;
    if (instance.agent === 'Online') instance.agent = 'ConnectionLost';
    // Commands still running never report back: SSM times them out at their execution deadline.
    for (const id of instance.commandIds) {
      const inv = this.commandById.get(id)?.invocations.find((i) => i.instance === instance);
      if (inv?.status === 'InProgress' && inv.startedAt !== undefined) {
        this.clock.cancel(inv.finishTimer);
        const deadline = inv.startedAt + this.config.executionTimeoutSeconds * 1000;
        inv.finishTimer = this.clock.schedule(deadline - this.clock.now, () => this.finish(inv, 'TimedOut'));
      }
    }
  }

  private setAgent(instance: Instance, status: AgentStatus): void {
    instance.agent = status;
    if (status !== 'Online') return;
    for (const inv of [...this.waitingForAgent]) {
      if (inv.instance === instance) {
        this.waitingForAgent.delete(inv);
        this.start(inv);
      }
    }
  }

  /** The instance a call is about, for call records and fault selection. */
  instanceOfCall(operation: string, params: Record<string, unknown>): Instance | undefined {
    const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);
    let id: unknown;
    switch (operation) {
      case 'CompleteLifecycleAction':
      case 'RecordLifecycleActionHeartbeat':
        id = params.InstanceId;
        if (id === undefined && typeof params.LifecycleActionToken === 'string') {
          return this.instances.find((i) => i.action?.token === params.LifecycleActionToken);
        }
        break;
      case 'SendCommand':
      case 'DescribeAutoScalingInstances':
        id = first(params.InstanceIds);
        break;
      case 'DescribeInstanceInformation': {
        const filters = [...asArray(params.Filters), ...asArray(params.InstanceInformationFilterList)];
        const f = filters.find((x) => /^InstanceIds$/i.test(String(x.Key ?? x.key)));
        id = first(f?.Values ?? f?.valueSet);
        break;
      }
      default:
        id = params.InstanceId;
    }
    return typeof id === 'string' ? this.byId.get(id) : undefined;
  }

  // ---- Auto Scaling ----

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
      .filter((i) => i.state !== 'Terminated' && i.state !== 'Pending' && (ids.length === 0 || ids.includes(i.id)));
    const page = listed.slice(start, start + max);
    return {
      AutoScalingInstances: page.map((i) => ({
        InstanceId: i.id,
        InstanceType: 't3.micro',
        AutoScalingGroupName: this.config.groupName,
        AvailabilityZone: `${this.config.region}a`,
        LifecycleState: i.state,
        HealthStatus: i.ec2Running ? 'HEALTHY' : 'UNHEALTHY',
        ProtectedFromScaleIn: false,
      })),
      ...(start + max < listed.length ? { NextToken: String(start + max) } : {}),
    };
  }

  private findAction(p: Record<string, unknown>): Instance {
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

  // ---- SSM ----

  describeInstanceInformation(p: Record<string, unknown>): Record<string, unknown> {
    let registered = this.instances.filter((i) => i.agent !== 'unregistered');
    for (const f of asArray(p.Filters)) {
      const key = String(f.Key);
      const values = asArray(f.Values).map(String);
      if (key === 'InstanceIds') {registered = registered.filter((i) => values.includes(i.id));} else if (key === 'PingStatus') {registered = registered.filter((i) => values.includes(i.agent));} else if (!['ResourceType', 'PlatformTypes', 'AgentVersion', 'AssociationStatus', 'tag-key'].includes(key) && !key.startsWith('tag:')) {
        throw new ApiError('InvalidFilterKey', `The specified filter key ${key} is not valid.`);
      }
    }
    for (const f of asArray(p.InstanceInformationFilterList)) {
      const key = String(f.key);
      const values = asArray(f.valueSet).map(String);
      if (key === 'InstanceIds') {
        const bad = values.find((v) => !INSTANCE_ID.test(v));
        if (bad) throw new ApiError('InvalidInstanceId', `Invalid instance id ${bad}`);
        registered = registered.filter((i) => values.includes(i.id));
      } else if (key === 'PingStatus') {
        registered = registered.filter((i) => values.includes(i.agent));
      }
    }
    const max = Number(p.MaxResults ?? 50);
    if (max < 5 || max > 50) throw new ApiError('ValidationException', '1 validation error detected: Value at \'maxResults\' failed to satisfy constraint: Member must have value between 5 and 50');
    const start = Number(p.NextToken ?? 0);
    return {
      InstanceInformationList: registered.slice(start, start + max).map((i) => ({
        InstanceId: i.id,
        PingStatus: i.agent,
        LastPingDateTime: date(this.clock.now),
        AgentVersion: '3.3.1142.0',
        IsLatestVersion: false,
        PlatformType: 'Linux',
        PlatformName: 'Amazon Linux',
        PlatformVersion: '2023',
        ResourceType: 'EC2Instance',
        IPAddress: `10.0.${Math.floor(i.index / 250)}.${(i.index % 250) + 4}`,
        ComputerName: `ip-10-0-${Math.floor(i.index / 250)}-${(i.index % 250) + 4}.ec2.internal`,
      })),
      ...(start + max < registered.length ? { NextToken: String(start + max) } : {}),
    };
  }

  sendCommand(p: Record<string, unknown>, invocation?: string): Record<string, unknown> {
    if (p.DocumentName !== this.config.documentName) {
      throw new ApiError('InvalidDocument', `Document with name ${String(p.DocumentName)} does not exist.`);
    }
    const ids = asArray(p.InstanceIds).map(String);
    if (ids.length === 0) throw new ApiError('ValidationException', 'Specify InstanceIds or Targets.');
    if (ids.length > 50) throw new ApiError('ValidationException', '1 validation error detected: Value at \'instanceIds\' failed to satisfy constraint: Member must have length less than or equal to 50');
    const comment = String(p.Comment ?? '');
    if (comment.length > 100) throw new ApiError('ValidationException', '1 validation error detected: Value at \'comment\' failed to satisfy constraint: Member must have length less than or equal to 100');
    const deliveryTimeoutSeconds = Number(p.TimeoutSeconds ?? 3600);
    if (!(deliveryTimeoutSeconds >= 30 && deliveryTimeoutSeconds <= 2_592_000)) {
      throw new ApiError('ValidationException', '1 validation error detected: Value at \'timeoutSeconds\' failed to satisfy constraint: Member must have value between 30 and 2592000');
    }
    const instances = ids.map((id) => this.byId.get(id));
    const invalid = ids.filter((_id, n) => {
      const i = instances[n];
      return !i || !i.ec2Running || i.agent !== 'Online';
    });
    if (invalid.length > 0) {
      throw new ApiError('InvalidInstanceId', `Instances [[${invalid.join(', ')}]] not in a valid state for account ${this.config.account}`);
    }
    const cw = p.CloudWatchOutputConfig as Record<string, unknown> | undefined;
    const command: Command = {
      id: this.rng.uuid(),
      documentName: this.config.documentName,
      comment,
      requestedAt: this.clock.now,
      visibleAt: this.clock.now + this.config.visibilityLagMs,
      deliveryTimeoutSeconds,
      outputLogGroup: cw?.CloudWatchOutputEnabled ? String(cw.CloudWatchLogGroupName ?? '') : undefined,
      invocations: [],
      status: 'Pending',
      sentBy: invocation,
    };
    for (const instance of instances as Instance[]) {
      const inv: Invocation = { commandId: command.id, instance, status: 'Pending', statusDetails: 'Pending', responseCode: -1 };
      command.invocations.push(inv);
      instance.commandIds.push(command.id);
    }
    this.commands.push(command);
    this.commandById.set(command.id, command);
    this.emitCommand(command);
    for (const inv of command.invocations) {
      this.emitInvocation(command, inv);
      this.clock.schedule(this.rng.draw(inv.instance.agentOptions.pickupMs ?? [200, 1_500]), () => this.start(inv));
      inv.deliveryTimer = this.clock.schedule(deliveryTimeoutSeconds * 1000, () => {
        if (inv.status !== 'Pending') return;
        this.waitingForAgent.delete(inv);
        this.finish(inv, inv.instance.ec2Running ? 'TimedOut' : 'Undeliverable', 'DeliveryTimedOut');
      });
    }
    return { Command: this.commandShape(command) };
  }

  /** The agent picks the command up, or waits for the agent to come back. */
  private start(inv: Invocation): void {
    if (inv.status !== 'Pending') return;
    const instance = inv.instance;
    if (!instance.ec2Running || instance.agent !== 'Online') {
      this.waitingForAgent.add(inv);
      return;
    }
    this.clock.cancel(inv.deliveryTimer);
    inv.startedAt = this.clock.now;
    this.transition(inv, 'InProgress');
    const executionMs = this.config.executionTimeoutSeconds * 1000;
    const outcome = instance.commandOptions.outcome ?? 'Success';
    const duration = outcome === 'hang' ? Infinity : this.rng.draw(instance.commandOptions.durationMs ?? [2_000, 20_000]);
    // The document's execution timeout stops commands that run too long.
    if (duration >= executionMs) {
      inv.finishTimer = this.clock.schedule(executionMs, () => this.finish(inv, 'TimedOut'));
    } else {
      inv.finishTimer = this.clock.schedule(duration, () => this.finish(inv, outcome === 'Failed' ? 'Failed' : 'Success'));
    }
  }

  private finish(inv: Invocation, status: InvocationStatus, details?: string): void {
    if (TERMINAL.includes(inv.status)) return;
    this.clock.cancel(inv.finishTimer);
    this.clock.cancel(inv.deliveryTimer);
    inv.endedAt = this.clock.now;
    inv.responseCode = status === 'Success' ? 0 : status === 'Failed' ? 1 : -1;
    this.transition(inv, status, details);
  }

  private transition(inv: Invocation, status: InvocationStatus, details?: string): void {
    inv.status = status;
    inv.statusDetails = details ?? DETAILS[status];
    const command = this.commandById.get(inv.commandId)!;
    this.emitInvocation(command, inv);
    const before = command.status;
    command.status = aggregateStatus(command.invocations);
    if (command.status !== before) this.emitCommand(command);
  }

  private emitInvocation(command: Command, inv: Invocation): void {
    this.emit({
      'version': '0',
      'id': this.rng.uuid(),
      'detail-type': 'EC2 Command Invocation Status-change Notification',
      'source': 'aws.ssm',
      'account': this.config.account,
      'time': iso(this.clock.now),
      'region': this.config.region,
      'resources': [`arn:aws:ec2:${this.config.region}:${this.config.account}:instance/${inv.instance.id}`],
      'detail': {
        'command-id': command.id,
        'document-name': command.documentName,
        'instance-id': inv.instance.id,
        'requested-date-time': iso(command.requestedAt),
        'status': inv.status,
      },
    }, { kind: 'command-status', instance: inv.instance.index, status: inv.status });
  }

  private emitCommand(command: Command): void {
    this.emit({
      'version': '0',
      'id': this.rng.uuid(),
      'detail-type': 'EC2 Command Status-change Notification',
      'source': 'aws.ssm',
      'account': this.config.account,
      'time': iso(this.clock.now),
      'region': this.config.region,
      'resources': command.invocations.map((i) => `arn:aws:ec2:${this.config.region}:${this.config.account}:instance/${i.instance.id}`),
      'detail': {
        'command-id': command.id,
        'document-name': command.documentName,
        'expire-after': iso(command.requestedAt + command.deliveryTimeoutSeconds * 1000),
        'parameters': {},
        'requested-date-time': iso(command.requestedAt),
        'status': command.status,
      },
    }, { kind: 'command', instance: command.invocations.length === 1 ? command.invocations[0].instance.index : undefined, status: command.status });
  }

  listCommands(p: Record<string, unknown>): Record<string, unknown> {
    let list = this.visibleCommands(p);
    for (const f of asArray(p.Filters)) {
      const key = String(f.key);
      const value = String(f.value);
      switch (key) {
        case 'DocumentName': list = list.filter((c) => c.documentName === value); break;
        case 'Status': list = list.filter((c) => c.status === value); break;
        case 'InvokedAfter': list = list.filter((c) => c.requestedAt >= RealDate.parse(value)); break;
        case 'InvokedBefore': list = list.filter((c) => c.requestedAt <= RealDate.parse(value)); break;
        case 'ExecutionStage': list = list.filter((c) => (value === 'Complete') === isTerminalCommand(c)); break;
        default: throw new ApiError('InvalidFilterKey', `The specified filter key ${key} is not valid.`);
      }
    }
    const { page, next } = paginate(list, p.MaxResults, p.NextToken, 50);
    return { Commands: page.map((c) => this.commandShape(c)), ...(next ? { NextToken: next } : {}) };
  }

  listCommandInvocations(p: Record<string, unknown>): Record<string, unknown> {
    const list = this.visibleCommands(p).flatMap((c) => c.invocations
      .filter((i) => p.InstanceId === undefined || i.instance.id === p.InstanceId)
      .map((i) => ({ c, i })));
    const { page, next } = paginate(list, p.MaxResults, p.NextToken, 50);
    return {
      CommandInvocations: page.map(({ c, i }) => ({
        CommandId: c.id,
        InstanceId: i.instance.id,
        InstanceName: '',
        Comment: c.comment,
        DocumentName: c.documentName,
        DocumentVersion: '$DEFAULT',
        RequestedDateTime: date(c.requestedAt),
        Status: i.status,
        StatusDetails: i.statusDetails,
        CloudWatchOutputConfig: { CloudWatchOutputEnabled: c.outputLogGroup !== undefined, CloudWatchLogGroupName: c.outputLogGroup ?? '' },
        ...(p.Details ? { CommandPlugins: [this.pluginShape(i)] } : {}),
      })),
      ...(next ? { NextToken: next } : {}),
    };
  }

  getCommandInvocation(p: Record<string, unknown>): Record<string, unknown> {
    const command = this.commandById.get(String(p.CommandId));
    const inv = command?.invocations.find((i) => i.instance.id === p.InstanceId);
    if (!command || !inv || this.clock.now < command.visibleAt) {
      throw new ApiError('InvocationDoesNotExist', 'An error occurred (InvocationDoesNotExist) when calling the GetCommandInvocation operation');
    }
    if (p.PluginName !== undefined && p.PluginName !== 'runCommands') {
      throw new ApiError('InvalidPluginName', `The plugin name ${String(p.PluginName)} is not valid.`);
    }
    return {
      CommandId: command.id,
      InstanceId: inv.instance.id,
      Comment: command.comment,
      DocumentName: command.documentName,
      DocumentVersion: '$DEFAULT',
      PluginName: 'runCommands',
      ResponseCode: inv.responseCode,
      ExecutionStartDateTime: inv.startedAt !== undefined ? iso(inv.startedAt) : '',
      ExecutionElapsedTime: inv.startedAt !== undefined ? elapsed((inv.endedAt ?? this.clock.now) - inv.startedAt) : '',
      ExecutionEndDateTime: inv.endedAt !== undefined ? iso(inv.endedAt) : '',
      Status: inv.status,
      StatusDetails: inv.statusDetails,
      StandardOutputContent: '',
      StandardOutputUrl: '',
      StandardErrorContent: '',
      StandardErrorUrl: '',
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: command.outputLogGroup !== undefined, CloudWatchLogGroupName: command.outputLogGroup ?? '' },
    };
  }

  cancelCommand(p: Record<string, unknown>): Record<string, unknown> {
    const command = this.commandById.get(String(p.CommandId));
    if (!command) throw new ApiError('InvalidCommandId', 'The command ID is not valid.');
    const ids = asArray(p.InstanceIds).map(String);
    for (const inv of command.invocations) {
      if (ids.length > 0 && !ids.includes(inv.instance.id)) continue;
      this.waitingForAgent.delete(inv);
      this.finish(inv, 'Cancelled');
    }
    return {};
  }

  private visibleCommands(p: Record<string, unknown>): Command[] {
    if (p.CommandId !== undefined && typeof p.CommandId !== 'string') throw new ApiError('InvalidCommandId', 'The command ID is not valid.');
    if (p.InstanceId !== undefined && !INSTANCE_ID.test(String(p.InstanceId))) throw new ApiError('InvalidInstanceId', `Invalid instance id ${String(p.InstanceId)}`);
    return this.commands
      .filter((c) => this.clock.now >= c.visibleAt)
      .filter((c) => p.CommandId === undefined || c.id === p.CommandId)
      .filter((c) => p.InstanceId === undefined || c.invocations.some((i) => i.instance.id === p.InstanceId))
      .sort((a, b) => b.requestedAt - a.requestedAt);
  }

  private commandShape(c: Command): Record<string, unknown> {
    const count = (s: InvocationStatus[]) => c.invocations.filter((i) => s.includes(i.status)).length;
    return {
      CommandId: c.id,
      DocumentName: c.documentName,
      DocumentVersion: '$DEFAULT',
      Comment: c.comment,
      ExpiresAfter: date(c.requestedAt + c.deliveryTimeoutSeconds * 1000),
      Parameters: {},
      InstanceIds: c.invocations.map((i) => i.instance.id),
      Targets: [],
      RequestedDateTime: date(c.requestedAt),
      Status: c.status,
      StatusDetails: c.status,
      MaxConcurrency: '50',
      MaxErrors: '0',
      TargetCount: c.invocations.length,
      CompletedCount: count(TERMINAL as InvocationStatus[]),
      ErrorCount: count(['Failed', 'TimedOut']),
      DeliveryTimedOutCount: c.invocations.filter((i) => i.statusDetails === 'DeliveryTimedOut').length,
      TimeoutSeconds: c.deliveryTimeoutSeconds,
      NotificationConfig: { NotificationArn: '', NotificationEvents: [], NotificationType: '' },
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: c.outputLogGroup !== undefined, CloudWatchLogGroupName: c.outputLogGroup ?? '' },
    };
  }

  private pluginShape(i: Invocation): Record<string, unknown> {
    return {
      Name: 'runCommands',
      Status: i.status,
      StatusDetails: i.statusDetails,
      ResponseCode: i.responseCode,
      ...(i.startedAt !== undefined ? { ResponseStartDateTime: date(i.startedAt) } : {}),
      ...(i.endedAt !== undefined ? { ResponseFinishDateTime: date(i.endedAt) } : {}),
      Output: '',
    };
  }
}

function aggregateStatus(invocations: Invocation[]): string {
  const has = (s: InvocationStatus) => invocations.some((i) => i.status === s);
  if (invocations.every((i) => TERMINAL.includes(i.status))) {
    if (invocations.every((i) => i.status === 'Success')) return 'Success';
    if (has('Failed')) return 'Failed';
    if (has('TimedOut')) return 'TimedOut';
    if (has('Cancelled')) return 'Cancelled';
    return 'Failed';
  }
  return has('InProgress') || invocations.some((i) => TERMINAL.includes(i.status)) ? 'InProgress' : 'Pending';
}

function isTerminalCommand(c: Command): boolean {
  return c.invocations.every((i) => TERMINAL.includes(i.status));
}

function paginate<T>(list: T[], maxResults: unknown, nextToken: unknown, limit: number): { page: T[]; next?: string } {
  const max = maxResults === undefined ? limit : Number(maxResults);
  if (!(max >= 1 && max <= limit)) throw new ApiError('ValidationException', `1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${limit}`);
  const start = nextToken === undefined ? 0 : Number(nextToken);
  if (!Number.isInteger(start) || start < 0) throw new ApiError('InvalidNextToken', 'The specified token is not valid.');
  const page = list.slice(start, start + max);
  return { page, next: start + max < list.length ? String(start + max) : undefined };
}

function asArray(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value) ? value : [];
}

/** A timestamp for the wire: the server writes epoch seconds (JSON) or ISO 8601 (XML). */
export function date(ms: number): Date {
  return new RealDate(ms);
}

function iso(ms: number): string {
  return new RealDate(ms).toISOString();
}

function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `PT${pad(Math.floor(s / 3600))}H${pad(Math.floor((s % 3600) / 60))}M${pad(s % 60)}.${String(ms % 1000).padStart(3, '0')}S`;
}
