/**
 * The state behind the stand-in's APIs, by service: Auto Scaling (the groups,
 * their hooks and the lifecycle actions), the SSM agents on the instances, and
 * Run Command with the hooks' documents. This file makes the fleet, wires the
 * services together, and applies the happenings a scenario schedules; each
 * service's file cites the public sources it follows.
 */
import { Agents } from './agent';
import { AutoScaling, AutoScalingGroup, GroupConfig } from './autoscaling';
import type { VirtualClock } from './clock';
import type { Emit, Instance } from './model';
import { asArray } from './model';
import type { AgentOptions, CommandOptions, Happening, InstanceOverride, LifecycleResult, ProgramBehaviour, WorldControl } from './options';
import { ParameterStore } from './parameterstore';
import type { Rng } from './rng';
import { AccountContent, CommandDocument, RunCommand } from './runcommand';
import type { StepFunctions } from './stepfunctions';
import { Sts } from './sts';

export { ApiError } from './model';
export type { Completion, Instance, LifecycleState, EventMeta, Emit } from './model';

export interface WorldConfig {
  readonly account: string;
  readonly region: string;
  /** The groups there are from the start (CloudFormation's model adds its own with `addGroup`). */
  readonly groups: readonly GroupConfig[];
  /** The hooks' documents. */
  readonly documents: readonly CommandDocument[];
  readonly visibilityLagMs: number;
  readonly agent: AgentOptions;
  readonly command: CommandOptions;
  readonly programs: Readonly<Record<string, ProgramBehaviour | readonly ProgramBehaviour[]>>;
  readonly overrides: readonly InstanceOverride[];
  /** Command documents of the account besides the hooks' (AWS-RunRemoteScript among them), and S3 objects. */
  readonly accountContent?: AccountContent;
}

export class World {
  readonly instances: Instance[] = [];
  private readonly byId = new Map<string, Instance>();
  /** Each group's own instances, by group name. */
  private readonly members = new Map<string, Instance[]>();
  readonly autoscaling = new AutoScaling();
  readonly agents: Agents;
  readonly runCommand: RunCommand;
  /** The hooks' settings, as their parameters hold them. */
  readonly parameters = new ParameterStore();
  /** The hooks' roles, which the runtime's function assumes. */
  readonly sts: Sts;
  /** The hooks' state machines; set once the functions they invoke exist. */
  stepFunctions!: StepFunctions;

  constructor(
    private readonly clock: VirtualClock,
    private readonly rng: Rng,
    readonly config: WorldConfig,
    private readonly emit: Emit,
  ) {
    this.sts = new Sts(clock, rng);
    this.agents = new Agents(clock, rng, config.region, config.programs, this.instances, {
      online: (instance) => this.runCommand.agentOnline(instance),
    });
    this.runCommand = new RunCommand(
      clock, rng, config.account, config.region, config.documents, config.visibilityLagMs, this.byId, this.agents, emit, config.accountContent,
    );
    for (const group of config.groups) this.addGroup(group);
  }

  /** Adds a group, with no instances yet. */
  addGroup(config: GroupConfig): AutoScalingGroup {
    const instances: Instance[] = [];
    const group = new AutoScalingGroup(this.clock, this.rng, { account: this.config.account, region: this.config.region, ...config },
      instances, this.byId, this.emit);
    this.members.set(config.groupName, instances);
    group.connect({
      started: (instance) => {
        instance.ec2Running = true;
        this.agents.started(instance);
      },
      stopped: (instance) => {
        if (!instance.ec2Running) return;
        instance.ec2Running = false;
        this.agents.stopped(instance);
        this.runCommand.instanceStopped(instance);
      },
    });
    this.autoscaling.add(group);
    return group;
  }

  /** The group of this name. */
  group(name: string): AutoScalingGroup {
    const group = this.autoscaling.find(name);
    if (!group) throw new Error(`no group named ${name}`);
    return group;
  }

  /** The group the instance belongs to. */
  groupOf(instance: Instance): AutoScalingGroup {
    return this.group(instance.group);
  }

  get commands() {
    return this.runCommand.commands;
  }

  /**
   * Adds an instance to a group (default: the first): in service with a
   * registered agent for a terminate hook, about to launch for a launch hook.
   */
  addInstance(groupName: string = this.config.groups[0].groupName): Instance {
    const group = this.group(groupName);
    const index = this.instances.length;
    const agentOptions: AgentOptions = { ...this.config.agent };
    const commandOptions: CommandOptions = { ...this.config.command };
    for (const o of this.config.overrides) {
      if (!o.instances.includes(index)) continue;
      const { instances: _, ...rest } = o;
      for (const [k, v] of Object.entries(rest)) {
        if (v === undefined) continue;
        if (k === 'registrationDelayMs' || k === 'pickupMs' || k === 'version') (agentOptions as Record<string, unknown>)[k] = v;
        else (commandOptions as Record<string, unknown>)[k] = v;
      }
    }
    const launching = group.launches;
    const instance: Instance = {
      index,
      id: `i-0${this.rng.hex(16)}`,
      group: groupName,
      state: group.initialState(),
      ec2Running: !launching,
      exists: true,
      agent: launching ? 'unregistered' : 'Online',
      actions: [],
      completions: [],
      commandIds: [],
      agentOptions,
      commandOptions,
    };
    this.instances.push(instance);
    this.members.get(groupName)!.push(instance);
    this.byId.set(instance.id, instance);
    return instance;
  }

  enterHook(instance: Instance): void {
    this.groupOf(instance).enterHook(instance);
  }

  /** Applies a happening to an instance. */
  happen(instance: Instance, happening: Happening): void {
    switch (happening) {
      case 'disappear':
        this.groupOf(instance).disappear(instance);
        break;
      case 'agent-offline':
        if (instance.agent === 'Online') this.agents.setStatus(instance, 'ConnectionLost');
        break;
      case 'agent-online':
        if (instance.ec2Running) this.agents.setStatus(instance, 'Online');
        break;
      case 'complete-continue':
        this.groupOf(instance).completeAny(instance, 'CONTINUE', 'operator');
        break;
      case 'complete-abandon':
        this.groupOf(instance).completeAny(instance, 'ABANDON', 'operator');
        break;
      case 'cancel-commands':
        this.runCommand.cancelAll(instance);
        break;
    }
  }

  /** What a scenario's `during` code sees of the world. */
  control(): WorldControl {
    const world = this;
    const at = (index: number) => {
      const i = world.instances[index];
      if (!i) throw new Error(`no instance ${index}`);
      return i;
    };
    return {
      get elapsedMs() { return world.clock.elapsed; },
      instance: (index) => {
        const i = at(index);
        return { id: i.id, state: i.state, agent: i.agent, ec2Running: i.ec2Running };
      },
      happen: (index, happening) => world.happen(at(index), happening),
      complete: (index, result: LifecycleResult, hook?: string) => {
        const i = at(index);
        const action = i.actions.find((a) => hook === undefined || a.hook === hook);
        if (action) world.groupOf(i).complete(i, action, result, 'operator');
      },
      release: (index) => {
        world.autoscaling.terminateInstanceInAutoScalingGroup({ InstanceId: at(index).id, ShouldDecrementDesiredCapacity: false });
      },
    };
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
          return this.instances.find((i) => i.actions.some((a) => a.token === params.LifecycleActionToken));
        }
        break;
      case 'StartExecution':
        id = registrationCheckInstance(params.input);
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

  /** The group a call is about: the group it names, or its instance's. */
  groupOfCall(operation: string, params: Record<string, unknown>): string | undefined {
    if (typeof params.AutoScalingGroupName === 'string') return params.AutoScalingGroupName;
    return this.instanceOfCall(operation, params)?.group;
  }

  dispose(): void {
    this.agents.dispose();
  }
}

/** The instance a registration wait's execution input is about. */
export function registrationCheckInstance(input: unknown): string | undefined {
  try {
    const parsed = typeof input === 'string' ? JSON.parse(input) : input;
    const id = parsed?.registrationCheck?.EC2InstanceId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
