/**
 * SSM Run Command with the hook's Command document: SendCommand and its
 * validation, each command's invocation from Pending to a final status, the
 * command's expiry, the status-change events, and the operations that list and
 * read commands.
 *
 * Sources:
 * - AWS Systems Manager API Reference: SendCommand (InstanceIds ≤ 50, Comment ≤ 100,
 *   TimeoutSeconds 30–2,592,000, DocumentVersion `$DEFAULT` | `$LATEST` | a version
 *   number, errors InvalidDocument, InvalidDocumentVersion, InvalidParameters,
 *   InvalidInstanceId), ListCommands, ListCommandInvocations, GetCommandInvocation
 *   (InvocationDoesNotExist, output capped at 24,000 / 8,000 characters), CancelCommand;
 * - SSM User Guide, "Understanding command statuses": Pending, InProgress, Delayed
 *   ("the system attempted to send the command to the target, but the target wasn't
 *   available … will try to send the command again"), Success, Failed, TimedOut with
 *   details Delivery Timed Out / Execution Timed Out, Cancelled; a command not
 *   received before delivery timeout + execution timeout is Delivery Timed Out;
 * - SSM User Guide, "Amazon EventBridge event examples for Systems Manager": the
 *   two status-change events and their detail fields;
 * - the execution timeout as the agent reads it: agent/plugins/pluginutil/pluginutil.go
 *   (ValidateExecutionTimeout); `{{ name }}` substitution from SendCommand's Parameters
 *   or the parameter's default (SSM User Guide, "Document syntax elements: parameters");
 *   what the agent makes of the step's other parameters: agent.ts (`prepareStep`);
 * - an instance that stops mid-run stays InProgress until the command expires: no
 *   AWS page says so directly; it follows from the agent being the only reporter.
 */
import type { Agents } from './agent';
import { DEFAULT_AGENT_VERSION, DocumentParameter, prepareStep, StepAction, statusOfExit } from './agent';
import type { VirtualClock } from './clock';
import { RealDate } from './clock';
import type { AccountDocument, DocumentContent } from './documents';
import { runDocumentSteps } from './documents';
import type { Emit, Instance } from './model';
import { ApiError, INSTANCE_ID, asArray, date, envelope, iso, paginate } from './model';
import type { Rng } from './rng';

export type InvocationStatus = 'Pending' | 'InProgress' | 'Delayed' | 'Success' | 'Failed' | 'TimedOut' | 'Cancelled' | 'Undeliverable';

/** The hook's Command document, as synthesized. */
export interface CommandDocument {
  readonly name: string;
  /** The only version the stand-in's document has. */
  readonly version: string;
  /** The step's name: the invocation's plugin name for a schema 2.2 document. */
  readonly stepName: string;
  /** The step's plugin: `sh` lines on Linux, or PowerShell on Windows. */
  readonly action: StepAction;
  readonly runCommand: readonly string[];
  /** The step's `timeoutSeconds` as written, `{{ parameter }}` included. */
  readonly timeoutSeconds?: unknown;
  readonly parameters: Readonly<Record<string, DocumentParameter>>;
  /**
   * A document of other steps than one shell step (it runs an existing
   * document, or downloads a script before its shell step): the agent runs
   * its steps (documents.ts). `runCommand` and `action` are then its shell
   * step's, if it has one.
   */
  readonly content?: DocumentContent;
}

/** What the account holds besides the hooks' documents: other Command documents, and S3 objects. */
export interface AccountContent {
  readonly documents: Readonly<Record<string, AccountDocument>>;
  /** By `bucket/key`: the object's text. */
  readonly s3Objects: Readonly<Record<string, string>>;
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
  expiryTimer?: number;
  /** The programs the script called. */
  ran: readonly string[];
  stdout: string;
  stderr: string;
}

export interface Command {
  readonly id: string;
  readonly documentName: string;
  readonly documentVersion: string;
  readonly document: CommandDocument;
  readonly comment: string;
  readonly requestedAt: number;
  readonly visibleAt: number;
  readonly deliveryTimeoutSeconds: number;
  /** The step's execution timeout after parameter substitution, as the agent reads it. */
  readonly executionTimeoutSeconds: number;
  readonly parameters: Readonly<Record<string, readonly string[]>>;
  readonly outputLogGroup?: string;
  readonly invocations: Invocation[];
  status: string;
  /** The Lambda invocation that sent it. */
  readonly sentBy?: string;
}

const TERMINAL: readonly InvocationStatus[] = ['Success', 'Failed', 'TimedOut', 'Cancelled', 'Undeliverable'];
/** The agent's default and range for the execution timeout (pluginutil.go). */
const EXECUTION_TIMEOUT = { default: 3_600, min: 5, max: 172_800 };
const MAX_STDOUT = 24_000;
const MAX_STDERR = 8_000;

/** The execution timeout the agent applies: the step's value after substitution, 5–172,800 s, else 3,600. */
export function executionTimeoutSeconds(
  raw: unknown,
  parameters: Readonly<Record<string, readonly string[]>>,
  declared: CommandDocument['parameters'],
): number {
  let value = raw;
  if (typeof value === 'string') {
    value = value.replace(/\{\{\s*(\w+)\s*\}\}/g, (whole, name: string) => parameters[name]?.[0] ?? declared[name]?.default ?? whole);
  }
  let n: number;
  if (typeof value === 'number') n = Math.trunc(value);
  else if (typeof value === 'string' && /^[+-]?\d+$/.test(value.trim())) n = Number(value.trim());
  else if (typeof value === 'string' && Number.isFinite(Number.parseFloat(value))) n = Math.trunc(Number.parseFloat(value));
  else n = EXECUTION_TIMEOUT.default;
  return n < EXECUTION_TIMEOUT.min || n > EXECUTION_TIMEOUT.max ? EXECUTION_TIMEOUT.default : n;
}

export class RunCommand {
  readonly commands: Command[] = [];
  private readonly commandById = new Map<string, Command>();
  /** Invocations the agent could not be reached for, waiting for it to come back. */
  private readonly waitingForAgent = new Set<Invocation>();
  private readonly documents = new Map<string, CommandDocument>();

  constructor(
    private readonly clock: VirtualClock,
    private readonly rng: Rng,
    private readonly account: string,
    private readonly region: string,
    documents: readonly CommandDocument[],
    private readonly visibilityLagMs: number,
    private readonly byId: ReadonlyMap<string, Instance>,
    private readonly agents: Agents,
    private readonly emit: Emit,
    private readonly accountContent: AccountContent = { documents: {}, s3Objects: {} },
  ) {
    for (const d of documents) this.documents.set(d.name, d);
  }

  /** The agent connected: commands that could not reach it start now. */
  agentOnline(instance: Instance): void {
    for (const inv of [...this.waitingForAgent]) {
      if (inv.instance === instance) {
        this.waitingForAgent.delete(inv);
        this.start(inv);
      }
    }
  }

  /**
   * The instance stopped or terminated. A running command never reports back:
   * it stays InProgress until the command expires.
   */
  instanceStopped(instance: Instance): void {
    for (const inv of this.invocationsOf(instance)) {
      if (inv.status === 'InProgress') {
        this.clock.cancel(inv.finishTimer);
        inv.finishTimer = undefined;
      }
    }
  }

  /** Someone cancels the instance's unfinished commands. */
  cancelAll(instance: Instance): void {
    for (const inv of this.invocationsOf(instance)) this.cancel(inv);
  }

  invocationsOf(instance: Instance): Invocation[] {
    return instance.commandIds
      .map((id) => this.commandById.get(id)?.invocations.find((i) => i.instance === instance))
      .filter((i): i is Invocation => i !== undefined);
  }

  sendCommand(p: Record<string, unknown>, invocation?: string): Record<string, unknown> {
    const doc = this.documents.get(String(p.DocumentName));
    if (!doc) {
      throw new ApiError('InvalidDocument', `Document with name ${String(p.DocumentName)} does not exist.`);
    }
    const version = p.DocumentVersion === undefined ? '$DEFAULT' : String(p.DocumentVersion);
    if (version !== '$DEFAULT' && version !== '$LATEST' && version !== doc.version) {
      throw new ApiError('InvalidDocumentVersion', `The document version ${version} is not valid or does not exist.`);
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
    const parameters = validateParameters(doc, p.Parameters);
    const instances = ids.map((id) => this.byId.get(id));
    const invalid = ids.filter((_id, n) => {
      const i = instances[n];
      return !i || !i.ec2Running || i.agent !== 'Online';
    });
    if (invalid.length > 0) {
      throw new ApiError('InvalidInstanceId', `Instances [[${invalid.join(', ')}]] not in a valid state for account ${this.account}`);
    }
    const cw = p.CloudWatchOutputConfig as Record<string, unknown> | undefined;
    const command: Command = {
      id: this.rng.uuid(),
      documentName: doc.name,
      documentVersion: version,
      document: doc,
      comment,
      requestedAt: this.clock.now,
      visibleAt: this.clock.now + this.visibilityLagMs,
      deliveryTimeoutSeconds,
      executionTimeoutSeconds: executionTimeoutSeconds(doc.timeoutSeconds, parameters, doc.parameters),
      parameters,
      outputLogGroup: cw?.CloudWatchOutputEnabled ? String(cw.CloudWatchLogGroupName ?? '') : undefined,
      invocations: [],
      status: 'Pending',
      sentBy: invocation,
    };
    for (const instance of instances as Instance[]) {
      command.invocations.push({
        commandId: command.id, instance, status: 'Pending', statusDetails: 'Pending', responseCode: -1, ran: [], stdout: '', stderr: '',
      });
      instance.commandIds.push(command.id);
    }
    this.commands.push(command);
    this.commandById.set(command.id, command);
    this.emitCommand(command);
    const expiresInMs = (deliveryTimeoutSeconds + command.executionTimeoutSeconds) * 1000;
    for (const inv of command.invocations) {
      this.emitInvocation(command, inv);
      const pickup = this.agents.pickupDelay(inv.instance);
      if (pickup !== undefined) this.clock.schedule(pickup, () => this.start(inv));
      inv.expiryTimer = this.clock.schedule(expiresInMs, () => this.expire(inv));
    }
    return { Command: this.commandShape(command) };
  }

  /** The agent picks the command up, or SSM finds it unreachable and will try again (Delayed). */
  private start(inv: Invocation): void {
    if (inv.status !== 'Pending' && inv.status !== 'Delayed') return;
    const instance = inv.instance;
    if (!instance.ec2Running || instance.agent !== 'Online') {
      if (inv.status === 'Pending') this.transition(inv, 'Delayed');
      this.waitingForAgent.add(inv);
      return;
    }
    const command = this.commandById.get(inv.commandId)!;
    const run = instance.commandIds.indexOf(command.id) + 1;
    inv.startedAt = this.clock.now;
    this.transition(inv, 'InProgress');
    const version = instance.agentOptions.version ?? DEFAULT_AGENT_VERSION;
    const content = command.document.content;
    let result;
    if (content) {
      result = runDocumentSteps({ agents: this.agents, ...this.accountContent }, instance, run, content, command.parameters, version);
    } else {
      const step = prepareStep(version, command.document.runCommand, command.document.parameters, command.parameters);
      result = this.agents.run(instance, step.runCommand, run, command.document.action, step.environment);
    }
    inv.ran = result.ran;
    inv.stdout = result.stdout.slice(0, MAX_STDOUT);
    inv.stderr = result.stderr.slice(0, MAX_STDERR);
    const executionMs = command.executionTimeoutSeconds * 1000;
    const duration = result.hung ? Infinity : this.rng.draw(instance.commandOptions.durationMs ?? [2_000, 20_000]);
    if (duration >= executionMs) {
      // The agent kills the script at the execution timeout (exit 137).
      inv.finishTimer = this.clock.schedule(executionMs, () => this.finish(inv, 'TimedOut', 'ExecutionTimedOut', 137));
      return;
    }
    const status = result.status ?? statusOfExit(result.exitCode, result.platform);
    inv.finishTimer = this.clock.schedule(duration, () => this.finish(inv, status, status === 'TimedOut' ? 'ExecutionTimedOut' : status, result.exitCode));
  }

  /** The command expires: delivery timeout + execution timeout after it was sent. */
  private expire(inv: Invocation): void {
    if (TERMINAL.includes(inv.status)) return;
    this.waitingForAgent.delete(inv);
    if (inv.status === 'InProgress') this.finish(inv, 'TimedOut', 'ExecutionTimedOut', -1);
    else if (!inv.instance.exists) this.finish(inv, 'Undeliverable', 'Undeliverable', -1);
    else this.finish(inv, 'TimedOut', 'DeliveryTimedOut', -1);
  }

  private cancel(inv: Invocation): void {
    if (TERMINAL.includes(inv.status)) return;
    this.waitingForAgent.delete(inv);
    this.finish(inv, 'Cancelled', 'Cancelled', inv.status === 'InProgress' ? 137 : -1);
  }

  private finish(inv: Invocation, status: InvocationStatus, details: string, responseCode: number): void {
    if (TERMINAL.includes(inv.status)) return;
    this.clock.cancel(inv.finishTimer);
    this.clock.cancel(inv.expiryTimer);
    inv.endedAt = this.clock.now;
    inv.responseCode = responseCode;
    this.transition(inv, status, details);
  }

  private transition(inv: Invocation, status: InvocationStatus, details?: string): void {
    inv.status = status;
    inv.statusDetails = details ?? status;
    const command = this.commandById.get(inv.commandId)!;
    this.emitInvocation(command, inv);
    const before = command.status;
    command.status = aggregateStatus(command.invocations);
    if (command.status !== before) this.emitCommand(command);
  }

  private instanceArn(instance: Instance): string {
    return `arn:aws:ec2:${this.region}:${this.account}:instance/${instance.id}`;
  }

  private emitInvocation(command: Command, inv: Invocation): void {
    this.emit(envelope(this.rng.uuid(), 'aws.ssm', 'EC2 Command Invocation Status-change Notification', this.account, this.region, this.clock.now,
      [this.instanceArn(inv.instance)], {
        'command-id': command.id,
        'document-name': command.documentName,
        'instance-id': inv.instance.id,
        'requested-date-time': iso(command.requestedAt),
        'status': inv.status,
      }), { kind: 'command-status', instance: inv.instance.index, status: inv.status });
  }

  private emitCommand(command: Command): void {
    this.emit(envelope(this.rng.uuid(), 'aws.ssm', 'EC2 Command Status-change Notification', this.account, this.region, this.clock.now,
      command.invocations.map((i) => this.instanceArn(i.instance)), {
        'command-id': command.id,
        'document-name': command.documentName,
        'expire-after': iso(expiresAt(command)),
        'parameters': command.parameters,
        'requested-date-time': iso(command.requestedAt),
        'status': command.status,
      }), { kind: 'command', instance: command.invocations.length === 1 ? command.invocations[0].instance.index : undefined, status: command.status });
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
        DocumentVersion: c.documentVersion,
        RequestedDateTime: date(c.requestedAt),
        Status: i.status,
        StatusDetails: i.statusDetails,
        CloudWatchOutputConfig: { CloudWatchOutputEnabled: c.outputLogGroup !== undefined, CloudWatchLogGroupName: c.outputLogGroup ?? '' },
        ...(p.Details ? { CommandPlugins: [pluginShape(c, i)] } : {}),
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
    if (p.PluginName !== undefined && p.PluginName !== command.document.stepName) {
      throw new ApiError('InvalidPluginName', `The plugin name ${String(p.PluginName)} is not valid.`);
    }
    return {
      CommandId: command.id,
      InstanceId: inv.instance.id,
      Comment: command.comment,
      DocumentName: command.documentName,
      DocumentVersion: command.documentVersion,
      PluginName: command.document.stepName,
      ResponseCode: inv.responseCode,
      ExecutionStartDateTime: inv.startedAt !== undefined ? iso(inv.startedAt) : '',
      ExecutionElapsedTime: inv.startedAt !== undefined ? elapsed((inv.endedAt ?? this.clock.now) - inv.startedAt) : '',
      ExecutionEndDateTime: inv.endedAt !== undefined ? iso(inv.endedAt) : '',
      Status: inv.status,
      StatusDetails: inv.statusDetails,
      StandardOutputContent: TERMINAL.includes(inv.status) ? inv.stdout : '',
      StandardOutputUrl: '',
      StandardErrorContent: TERMINAL.includes(inv.status) ? inv.stderr : '',
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
      this.cancel(inv);
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
    const count = (s: readonly InvocationStatus[]) => c.invocations.filter((i) => s.includes(i.status)).length;
    return {
      CommandId: c.id,
      DocumentName: c.documentName,
      DocumentVersion: c.documentVersion,
      Comment: c.comment,
      ExpiresAfter: date(expiresAt(c)),
      Parameters: c.parameters,
      InstanceIds: c.invocations.map((i) => i.instance.id),
      Targets: [],
      RequestedDateTime: date(c.requestedAt),
      Status: c.status,
      StatusDetails: c.status,
      MaxConcurrency: '50',
      MaxErrors: '0',
      TargetCount: c.invocations.length,
      CompletedCount: count(TERMINAL),
      ErrorCount: count(['Failed', 'TimedOut']),
      DeliveryTimedOutCount: c.invocations.filter((i) => i.statusDetails === 'DeliveryTimedOut').length,
      TimeoutSeconds: c.deliveryTimeoutSeconds,
      NotificationConfig: { NotificationArn: '', NotificationEvents: [], NotificationType: '' },
      CloudWatchOutputConfig: { CloudWatchOutputEnabled: c.outputLogGroup !== undefined, CloudWatchLogGroupName: c.outputLogGroup ?? '' },
    };
  }

}

/** SendCommand's Parameters against the document's: declared names only, values matching allowedPattern. */
function validateParameters(document: CommandDocument, given: unknown): Record<string, readonly string[]> {
  const declared = document.parameters;
  const out: Record<string, readonly string[]> = {};
  if (given !== undefined && (typeof given !== 'object' || given === null || Array.isArray(given))) {
    throw new ApiError('InvalidParameters', 'Parameters must be a map of parameter names to lists of values.');
  }
  for (const [name, values] of Object.entries((given ?? {}) as Record<string, unknown>)) {
    const spec = declared[name];
    if (!spec) throw new ApiError('InvalidParameters', `Parameter "${name}" is not declared by document ${document.name}.`);
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) {
      throw new ApiError('InvalidParameters', `Parameter "${name}" must be a list of strings.`);
    }
    // The whole value must match: AWS-RunShellScript's own executionTimeout pattern only makes sense that way.
    const pattern = spec.allowedPattern !== undefined ? new RegExp(`^(?:${spec.allowedPattern})$`) : undefined;
    const bad = pattern ? (values as string[]).find((v) => !pattern.test(v)) : undefined;
    if (bad !== undefined) {
      throw new ApiError('InvalidParameters', `Parameter "${name}" value "${bad}" does not match the allowed pattern ${spec.allowedPattern}.`);
    }
    out[name] = values as string[];
  }
  for (const [name, spec] of Object.entries(declared)) {
    if (out[name] === undefined && spec.default === undefined) throw new ApiError('InvalidParameters', `Parameter "${name}" is required.`);
  }
  return out;
}


function pluginShape(c: Command, i: Invocation): Record<string, unknown> {
  return {
    Name: c.document.stepName,
    Status: i.status,
    StatusDetails: i.statusDetails,
    ResponseCode: i.responseCode,
    ...(i.startedAt !== undefined ? { ResponseStartDateTime: date(i.startedAt) } : {}),
    ...(i.endedAt !== undefined ? { ResponseFinishDateTime: date(i.endedAt) } : {}),
    Output: TERMINAL.includes(i.status) ? i.stdout : '',
  };
}
/** When a command expires: delivery timeout + execution timeout after it was sent. */
export function expiresAt(c: Command): number {
  return c.requestedAt + (c.deliveryTimeoutSeconds + c.executionTimeoutSeconds) * 1000;
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

function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `PT${pad(Math.floor(s / 3600))}H${pad(Math.floor((s % 3600) / 60))}M${pad(s % 60)}.${String(ms % 1000).padStart(3, '0')}S`;
}
