/**
 * Everything a scenario can set, as plain data: the hook, the fleet, how the
 * SSM agents and commands behave, and the faults. A new fault is a new value of
 * these options, not new code.
 *
 * Instances are named by their index in the scenario (0 … instances-1); times
 * are virtual milliseconds from the start of the scenario.
 */
import type { AccountDocument } from './documents';
import type { Range } from './rng';
import type { StepFunctionsOptions } from './stepfunctions';

export type LifecycleResult = 'CONTINUE' | 'ABANDON';
export type Transition = 'launch' | 'terminate';

/** A Lambda handler as the Node.js runtime calls it. */
export type Handler = (event: unknown, context: LambdaContext) => Promise<unknown>;

/**
 * Makes the handler of one execution environment (its cold start). The default
 * loads a fresh copy of the bundled asset, so each environment has its own SDK
 * clients, as in Lambda.
 */
export type HandlerFactory = () => Handler;

export interface LambdaContext {
  readonly functionName: string;
  readonly functionVersion: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  readonly awsRequestId: string;
  readonly logGroupName: string;
  readonly logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
}

/** The hook under test, configured as a user configures the construct. */
export interface HookOptions {
  readonly transition: Transition;
  /**
   * The group the hook sits on, by index: 0 is `web-fleet`, n is
   * `web-fleet-<n+1>` (`groupNameOf`), each an imported group of its own
   * with `instances` instances. @default 0
   */
  readonly group?: number;
  /** The construct's `timeout`: the commands' execution timeout. */
  readonly timeoutSeconds: number;
  readonly defaultResult?: LifecycleResult;
  /** The construct's `registrationTimeout` (launch hooks). */
  readonly registrationTimeoutSeconds?: number;
  /**
   * The hook's heartbeat timeout, for a hook made by hand with a fixed one.
   * @default the construct's, derived from `timeoutSeconds`
   */
  readonly heartbeatTimeoutSeconds?: number;
  /**
   * The construct's `commands`: the lines of the document's `runCommand`. The
   * agent runs the synthesized document's lines with the real `/bin/sh`; the
   * programs they call are the scenario's `programs`.
   * @default ['lifecycle-step']
   */
  readonly commands?: readonly string[];
  /**
   * The construct's `shell`. With `powershell` the document's step is
   * `aws:runPowerShellScript`, run on a modelled Windows instance: the agent
   * interprets the generated script (powershell.ts), calling the same
   * `programs`; each command must call one program with plain arguments.
   * @default 'sh'
   */
  readonly shell?: 'sh' | 'powershell';
  /**
   * The construct's `stages` (the `LifecycleStage` values): the warm-pool
   * stages whose lifecycle events run the commands.
   * @default every stage of the transition
   */
  readonly stages?: ReadonlyArray<'enter-warm-pool' | 'leave-warm-pool' | 'launch-into-group' | 'return-to-warm-pool' | 'terminate'>;
  /**
   * The construct's `retainOnFailure` (terminate hooks): the failure result
   * becomes ABANDON. The group retains the instance only with the scenario's
   * `terminateHookAbandon: 'retain'`. @default false
   */
  readonly retainOnFailure?: boolean;
  /** The construct's `notificationMetadata`: in the hook's lifecycle events, and the commands' `SSM_NotificationMetadata`. */
  readonly notificationMetadata?: string;
  /**
   * The construct's `documentName`, `documentVersion` and `documentParameters`
   * instead of `commands`: an existing Command document of the scenario's
   * `documents`, or AWS-RunRemoteScript.
   */
  readonly document?: { readonly name: string; readonly version?: string; readonly parameters?: Readonly<Record<string, string | string[]>> };
  /** The construct's `scriptBucket` (by name) and `scriptKey` instead of `commands`: an object of the scenario's `s3Objects`. */
  readonly script?: { readonly bucket: string; readonly key: string };
}

/**
 * What a program called by the commands does on some instances: it becomes an
 * executable on the PATH of the script the agent runs. Unless a behaviour says
 * otherwise a program exits 0; `lifecycle-step` (the default command) always
 * exists, any other program exists only if named in `programs` (elsewhere the
 * shell answers `command not found`, exit 127, as on an instance without it).
 */
export interface ProgramBehaviour {
  /** Its exit status. @default 0 */
  readonly exitCode?: number;
  /** It never returns: the agent stops the script at the execution timeout (`TimedOut`). @default false */
  readonly hang?: boolean;
  /** What it prints on standard output. */
  readonly stdout?: string;
  /** It is not installed: the shell answers `command not found` (exit 127). @default false */
  readonly missing?: boolean;
  /** Environment variables it prints, one `NAME=value` line each (a variable not set prints as empty). @default none */
  readonly printsEnvironment?: readonly string[];
  /** The instances (by index) where it behaves so. @default all */
  readonly instances?: readonly number[];
  /** Only on these runs of the commands on the instance (1: the first command sent to it). @default every run */
  readonly runs?: readonly number[];
}

/**
 * The group has a warm pool. Launch hooks: each instance launches into the pool
 * (`Warmed:Pending:Wait`, Origin `EC2`, Destination `WarmPool`), stops there
 * once its action completes, and later starts again for the group
 * (`Pending:Wait` with a new token, Origin `WarmPool`, Destination
 * `AutoScalingGroup`): two lifecycle actions per instance. Terminate hooks: the
 * group reuses instances on scale in, so each goes back to the pool
 * (`Warmed:Pending:Wait`, Origin `AutoScalingGroup`, Destination `WarmPool`) and
 * stops there.
 */
export interface WarmPoolOptions {
  /** Launch hooks: how long an instance stays stopped in the pool before the group needs it. @default [60_000, 120_000] */
  readonly leaveAfterMs?: Range;
}

/** How the SSM agent of an instance behaves. */
export interface AgentOptions {
  /**
   * Launch hooks: how long after launch the agent registers with SSM (until
   * then SendCommand answers `InvalidInstanceId`), or `never`. Instances going
   * through a terminate hook registered long ago.
   * @default [15_000, 45_000]
   */
  readonly registrationDelayMs?: Range | 'never';
  /**
   * From SendCommand until the agent starts the command (Pending → InProgress),
   * or `never`: the agent is online but never picks it up, and the command
   * stays Pending until it expires (`TimedOut`, `DeliveryTimedOut`).
   * @default [200, 1_500]
   */
  readonly pickupMs?: Range | 'never';
  /**
   * The agent's version, as DescribeInstanceInformation reports it. Before
   * 3.3.2746.0 the agent gives the script no `ENV_VAR` parameters.
   * @default '3.3.3572.0'
   */
  readonly version?: string;
}

/**
 * How long the commands run on an instance. How they end is not an option: the
 * agent runs the document's real lines, and the `programs` decide.
 */
export interface CommandOptions {
  /** How long the commands run, virtual ms (unless a program hangs). @default [2_000, 20_000] */
  readonly durationMs?: Range;
}

/** Agent and command behaviour for some instances only. */
export interface InstanceOverride extends AgentOptions, CommandOptions {
  readonly instances: readonly number[];
}

/**
 * Something that happens to an instance outside the handler:
 * - `disappear`: the EC2 instance is terminated behind Auto Scaling's back (its
 *   agent goes offline for good; a pending lifecycle action stays until it is
 *   completed or times out, and the instance ends `Terminated`);
 * - `agent-offline` / `agent-online`: the SSM agent loses / regains its connection;
 * - `complete-continue` / `complete-abandon`: someone else completes the
 *   lifecycle action (an operator, another tool);
 * - `cancel-commands`: someone cancels the instance's unfinished commands (`Cancelled`).
 */
export type Happening = 'disappear' | 'agent-offline' | 'agent-online' | 'complete-continue' | 'complete-abandon' | 'cancel-commands';

/** A happening at a fixed virtual time. */
export interface ScheduledHappening {
  readonly atMs: number;
  readonly instances: readonly number[];
  readonly happening: Happening;
}

/** What scenario code may do to the world during a run. */
export interface WorldControl {
  /** Virtual ms since the start. */
  readonly elapsedMs: number;
  /** An instance as it is now. */
  instance(index: number): { readonly id: string; readonly state: string; readonly agent: string; readonly ec2Running: boolean };
  /** Applies a happening to an instance, as `schedule` does. */
  happen(index: number, happening: Happening): void;
  /**
   * Completes the instance's pending lifecycle action of this hook (default:
   * the first pending) "by an operator", as the CLI would, outside the handler.
   */
  complete(index: number, result: LifecycleResult, hook?: string): void;
  /**
   * Releases a retained instance as an operator would, with
   * TerminateInstanceInAutoScalingGroup (`ShouldDecrementDesiredCapacity`
   * false): it goes through the terminate hooks again.
   */
  release(index: number): void;
}

/** Scenario code run at a virtual time. */
export interface WorldHook {
  readonly atMs: number;
  readonly run: (world: WorldControl) => void;
}

/** Which calls a fault applies to, and how often. All fields narrow; none set matches every call. */
export interface Selector {
  /** The instances (by index) whose calls or events it applies to. */
  readonly instances?: readonly number[];
  /** `skip` and `times` count for each instance apart ("once for each instance"). @default false */
  readonly perInstance?: boolean;
  /**
   * Only once this call about the same instance has been answered (and, with
   * `applied`, took effect): e.g. right after a SendCommand that created a command.
   */
  readonly afterCall?: { readonly operation: string; readonly applied?: boolean };
  /** Only from / until this virtual time. */
  readonly fromMs?: number;
  readonly untilMs?: number;
  /** Probability that a matching call or event is hit. @default 1 */
  readonly rate?: number;
  /** Matching calls or events let through before it starts. @default 0 */
  readonly skip?: number;
  /** Most times it hits. @default unlimited */
  readonly times?: number;
}

/** An error the stand-in answers with. */
export interface InjectedError {
  /** The error code on the wire, e.g. `Throttling` (Auto Scaling), `ThrottlingException` (SSM), `ResourceContention`. */
  readonly code: string;
  /** HTTP status. @default 500 for ResourceContention, InternalServerError, InternalFailure, ServiceUnavailable; otherwise 400 */
  readonly status?: number;
  readonly message?: string;
  /** The call takes effect first and the error is answered anyway (a lost response). @default false */
  readonly afterApplying?: boolean;
}

/** A fault on API calls to the stand-in. */
export interface ApiFault extends Selector {
  /** Operation names, e.g. `SendCommand`, `CompleteLifecycleAction`. @default all */
  readonly operations?: readonly string[];
  /** Only calls about these groups, by name: the group a call names, or its instance's. @default any */
  readonly groups?: readonly string[];
  /** Answer with this error instead of (or after) performing the call. */
  readonly error?: InjectedError;
  /** Extra latency, virtual ms. */
  readonly delayMs?: Range;
  /**
   * The connection is reset instead of answered (the SDK sees `ECONNRESET`):
   * `before` the call takes effect, or `after` it (the answer is lost).
   */
  readonly reset?: 'before' | 'after';
  /** Happens to the call's instance just before the call is processed. */
  readonly before?: Happening;
  /** Happens to the call's instance just after the call is processed. */
  readonly after?: Happening;
}

/** The kinds of events the function receives; `schedule`: the reconciliation pass's, sent by its rule, never lost. */
export type EventKind = 'lifecycle' | 'command-status' | 'schedule';

/** A fault on EventBridge delivery of some events. */
export interface EventFault extends Selector {
  /** `lifecycle`: the Auto Scaling lifecycle events; `command-status`: SSM command invocation status events. @default both */
  readonly kind?: EventKind;
  /** For `command-status`: only events of this status. */
  readonly status?: string;
  /** The event is never delivered. */
  readonly lose?: boolean;
  /** Extra copies delivered. */
  readonly duplicates?: number;
  /** How much later each copy arrives than the original. @default EventOptions.duplicateDelayMs */
  readonly duplicateDelayMs?: Range;
  /** Extra delay of the original. */
  readonly delayMs?: Range;
}

/** EventBridge delivery: at least once, after a delay, in no guaranteed order. */
export interface EventOptions {
  /** From the event until the function is invoked, drawn per delivery (so events reorder). @default [100, 1_500] */
  readonly delayMs?: Range;
  /** Probability that an event is delivered twice: one for all, or by event kind. @default 0 */
  readonly duplicateRate?: number | Readonly<Partial<Record<EventKind, number>>>;
  /** How much later a duplicate arrives. @default [0, 10_000] */
  readonly duplicateDelayMs?: Range;
  /**
   * Probability that an event is lost (best-effort delivery): one for all, or by
   * event kind, e.g. `{ lifecycle: 0.001, 'command-status': 0.001 }`. @default 0
   */
  readonly lossRate?: number | Readonly<Partial<Record<EventKind, number>>>;
  /**
   * Which kinds of events have a rule that invokes the function, for a function
   * invoked by the lifecycle event only (`['lifecycle']`). @default every rule of the template
   */
  readonly kinds?: readonly EventKind[];
  /**
   * EventBridge gives up on an event it could not hand to the target within
   * this long and sends it to the target's dead-letter queue. @default the template's target RetryPolicy MaximumEventAgeInSeconds
   */
  readonly maximumEventAgeSeconds?: number;
  readonly faults?: readonly EventFault[];
}

/** A fault in the function itself. */
export interface LambdaFault extends Selector {
  readonly kind?: EventKind | 'registration-check';
  /** Only this attempt of an event (1 is the first delivery, 2 and 3 Lambda's retries). */
  readonly attempt?: number;
  /**
   * When it strikes: once the response to this many API calls of the
   * invocation has arrived (0: before the handler runs).
   */
  readonly afterCalls: number;
  /**
   * `crash`: the runtime dies (the invocation fails at once and the environment
   * is discarded); `hang`: the handler makes no more progress and Lambda stops
   * it at its timeout.
   */
  readonly effect: 'crash' | 'hang';
}

/**
 * What happens at a call point (see `CallPoint`):
 * - `crash`: the runtime dies as the call's answer arrives; Lambda retries the event;
 * - `answer-lost`: the call takes effect and its answer is replaced by a 500
 *   (the SDK retries it, unless its client does not);
 * - `copy`: a copy of the same event is delivered, and runs to its end (as does all it starts) before the answer arrives;
 * - `pass`: a reconciliation pass runs to its end before the answer arrives;
 * - `next-action`: warm pools: the instance's next lifecycle action starts as
 *   soon as its current one lets it (at once, if it has ended), and its
 *   event runs to its end before the answer arrives.
 */
export type CallPointFault = 'crash' | 'answer-lost' | 'copy' | 'pass' | 'next-action';

/**
 * One fault at one point of one invocation: right after its `call`-th request
 * (to the stand-in's APIs or to DynamoDB, SDK retries counted) took effect.
 * The invocation is the `nth` (0: the first) first delivery of an event of
 * `kind`. The points of a run are read from a run without the fault: its
 * `ApiCall.call` and `StoreCall.call`.
 */
export interface CallPoint {
  readonly kind: EventKind | 'registration-check';
  readonly nth: number;
  readonly call: number;
  readonly fault: CallPointFault;
}

export interface LambdaOptions {
  /** The function's timeout. @default the synthesized template's */
  readonly timeoutSeconds?: number;
  /** The function's memory, reported to the handler and in the results. @default the synthesized template's */
  readonly memoryMB?: number;
  /** Most execution environments at once; events wait in Lambda's queue beyond it. @default 100 */
  readonly concurrency?: number;
  /** Virtual duration of a cold start. @default 200 */
  readonly initMs?: number;
  /**
   * Lambda discards an event older than this (first delivery or retry) and
   * sends it to the function's dead-letter queue. @default the template's EventInvokeConfig MaximumEventAgeInSeconds
   */
  readonly maximumEventAgeSeconds?: number;
  /** Waits before Lambda's asynchronous retries of a failed event. @default [60_000, 120_000] */
  readonly retryDelaysMs?: readonly number[];
  readonly faults?: readonly LambdaFault[];
}

/** A request rate per API, as a token bucket: `burst` tokens at most, refilled at `rate` per second. */
export interface RateLimit {
  readonly rate: number;
  readonly burst: number;
}

export interface ApiOptions {
  /** Time each API call takes, virtual ms. @default [15, 60] */
  readonly latencyMs?: Range;
  readonly faults?: readonly ApiFault[];
  /**
   * Request rates by operation name; a call finding the bucket empty is
   * throttled (`Throttling` for Auto Scaling, `ThrottlingException` for SSM).
   * Neither service publishes these rates, so there is no default limit.
   */
  readonly rateLimits?: Readonly<Record<string, RateLimit>>;
}

/** A fault on the handler's DynamoDB calls. */
export interface StoreFault {
  /** DynamoDB operation names, e.g. `UpdateItem`. @default all */
  readonly operations?: readonly string[];
  /** The instances (by index) whose records it applies to. */
  readonly instances?: readonly number[];
  /** Only requests whose JSON body contains this text (e.g. a part of an update expression). */
  readonly bodyIncludes?: string;
  /** Matching successful calls let through before it starts. @default 0 */
  readonly skip?: number;
  /** Most times it hits, counted for each instance apart (`lost`). @default 1 (`lost`), unlimited (`throttled`) */
  readonly times?: number;
  /** Probability that a matching call is hit (`throttled`). @default 1 */
  readonly rate?: number;
  /**
   * `lost`: the call takes effect and its answer is replaced by a 500 InternalServerError (the SDK retries it).
   * `throttled`: the call is refused before it takes effect, `ProvisionedThroughputExceededException` (HTTP 400),
   * as DynamoDB refuses a request beyond a table's throughput; it matches by `operations` and `rate` only.
   */
  readonly answer: 'lost' | 'throttled';
}

export interface StoreOptions {
  readonly faults?: readonly StoreFault[];
}

export interface SsmOptions {
  /**
   * Run Command's eventual consistency: for this long after SendCommand the
   * command is missing from ListCommands and ListCommandInvocations, and
   * GetCommandInvocation answers `InvocationDoesNotExist`. @default 0
   */
  readonly visibilityLagMs?: number;
}

/** A stack operation or a change of the group's capacity at a virtual time (CloudFormation's model, cloudformation.ts). */
export type DeployStep =
  /**
   * Creates the stack, or updates it, with the hooks of these indexes (0: `hook`, then `hooks`; default all), or with
   * the earlier layout; `imageId`: the group's machine image (default `ami-0standin0000000`), whose change replaces
   * the group's launch configuration.
   */
  | { readonly kind: 'deploy'; readonly atMs: number; readonly hooks?: readonly number[]; readonly layout?: 'earlier'; readonly imageId?: string }
  | { readonly kind: 'delete'; readonly atMs: number }
  /** The group's desired capacity set outside CloudFormation (a scaling policy, an operator). */
  | { readonly kind: 'scale'; readonly atMs: number; readonly desired: number };

/**
 * The stack is deployed during the run by a model of CloudFormation, on a
 * group of the same app (the hooks in its LifecycleHookSpecificationList):
 * every resource exists only from its creation to its deletion.
 */
export interface DeployOptions {
  readonly group: {
    /** The group's desired capacity as the template sets it. */
    readonly capacity: number;
    /** The group's CreationPolicy: CloudFormation waits for this many signals. @default none */
    readonly creationPolicy?: { readonly count: number; readonly timeoutSeconds: number };
    /**
     * The group's UpdatePolicy: `replacing` (AutoScalingReplacingUpdate, WillReplace) makes an update that
     * changes its launch configuration replace the group. @default none
     */
    readonly updatePolicy?: 'replacing';
  };
  /** The stack as it stood before the run (every resource there, the group's instances in service). @default no stack */
  readonly initial?: { readonly hooks?: readonly number[]; readonly layout?: 'earlier' };
  readonly steps: readonly DeployStep[];
  /** How long CloudFormation takes per resource type, virtual ms. @default DEFAULT_TIMINGS in cloudformation.ts */
  readonly timingsMs?: Readonly<Record<string, Range>>;
  /** The `lifecycleHookName` of hook 0. @default the construct's default */
  readonly hookName?: string;
  /** The name of the earlier layout's lifecycle hook. @default that layout's default, from the construct's path */
  readonly legacyHookName?: string;
}

export interface ScenarioOptions {
  readonly name: string;
  /**
   * Deploy the stack during the run through the model of CloudFormation, on
   * a group of the same app; `instances` must be 0 (the group launches its
   * own). @default the stack on an imported group exists from the start
   */
  readonly deploy?: DeployOptions;
  readonly hook: HookOptions;
  /**
   * Further hooks, on the same group unless their `group` says otherwise, each
   * its own construct with its own document, rule, role and parameter, all
   * served by the stack's one runtime (named `standin-hook-2`, `-3` …). Hooks
   * of the same transition on a group run at once; the instance moves on when all have completed,
   * and ABANDON on any ends the others (a terminate hook's ABANDON skips the
   * remaining hooks). @default none
   */
  readonly hooks?: readonly HookOptions[];
  /**
   * The reconciliation pass: each hook's scheduled rule invokes its function
   * every period of the template, the first time `phaseMs` after the start
   * (a scheduled rule's phase is its creation time's), while any instance
   * waits or is yet to launch, return to the group or scale in.
   * `false`: no pass, as a function deployed without its schedule.
   * `untilMs`: the rule keeps firing until this virtual time whether or not
   * anything waits, as the deployed schedule does (a month of idle passes).
   * @default { phaseMs: a draw in [0, period) from a stream of its own }
   */
  readonly reconciliation?: false | { readonly phaseMs?: number; readonly untilMs?: number };
  /**
   * With launch and terminate hooks: the group scales an instance in this long
   * after it went into service. @default never
   */
  readonly scaleInAfterMs?: Range;
  /**
   * The group's instance lifecycle policy (`RetentionTriggers.TerminateHookAbandon`):
   * with `retain`, an instance whose terminate action is abandoned stays in
   * `Terminating:Retained` (`Warmed:Pending:Retained` on its way back to a warm
   * pool), running, until released. @default 'terminate'
   */
  readonly terminateHookAbandon?: 'retain' | 'terminate';
  /**
   * How many instances go through the hooks, in each group (the hooks'
   * `group`s): group 0's are instances 0 … instances-1, group 1's the next,
   * and so on.
   */
  readonly instances: number;
  /** The group has a warm pool (see `WarmPoolOptions`). @default none */
  readonly warmPool?: WarmPoolOptions;
  /** Instances enter the hook spread evenly over this long. @default 0 (all at once) */
  readonly spreadMs?: number;
  readonly agent?: AgentOptions;
  readonly command?: CommandOptions;
  /**
   * Command documents of the account besides the hooks', by name: each
   * version's content (parameters and steps). AWS-RunRemoteScript is always
   * there (documents.ts). @default none
   */
  readonly documents?: Readonly<Record<string, AccountDocument>>;
  /** S3 objects by `bucket/key`: their text, for a hook's `script` or AWS-RunRemoteScript. @default none */
  readonly s3Objects?: Readonly<Record<string, string>>;
  /** What the programs the commands call do, by program name (see `ProgramBehaviour`). */
  readonly programs?: Readonly<Record<string, ProgramBehaviour | readonly ProgramBehaviour[]>>;
  readonly overrides?: readonly InstanceOverride[];
  readonly api?: ApiOptions;
  readonly ssm?: SsmOptions;
  /** The handler's DynamoDB table (dynalite). */
  readonly store?: StoreOptions;
  readonly events?: EventOptions;
  readonly lambda?: LambdaOptions;
  /** One fault at one call of one invocation, for sweeps over every call a run makes (see `CallPoint`). */
  readonly callPoint?: CallPoint;
  /** Step Functions: Express executions run twice at this rate (at-least-once). */
  readonly stepFunctions?: StepFunctionsOptions;
  readonly schedule?: readonly ScheduledHappening[];
  /** Scenario code run inside the world at chosen virtual times. */
  readonly during?: readonly WorldHook[];
  /** Seed of every random draw of the stand-in and of the SDK's retry jitter. @default 1 */
  readonly seed?: number;
  /** Stop after this much virtual time even if work remains; instances still waiting count as stuck. @default 49 hours */
  readonly horizonMs?: number;
  /** The function under test. @default the bundled handler asset */
  readonly handler?: HandlerFactory;
  /** Print the handler's log lines as they happen. @default false */
  readonly verbose?: boolean;
}
