/**
 * The record the handler keeps for each lifecycle action, in the hook's
 * DynamoDB table: the claim that lets exactly one invocation send the action's
 * command, and what completing the action needs (token, instance, command id,
 * lifecycle stage).
 *
 * Key: partition `InstanceId`, sort `LifecycleActionToken`. One Query by
 * instance finds all of an instance's actions (a warm-pool instance has two
 * launch actions), which is what both the status path and a pass over waiting
 * instances need.
 *
 * States:
 * - `waiting`: a launch waits for its instance's SSM agent. One chain of
 *   registration waits (registration-wait.ts) holds the action until
 *   `LeaseUntil`: `ClaimId` names the chain, `WaitAttempt` the check it has
 *   scheduled next, `WaitDeadline` when an agent still not online fails the
 *   action. Nothing has been sent.
 * - `failing`: the registration deadline passed; the chain's check that found it
 *   completes the action with the failure result. Nothing is sent: a claim is
 *   taken from `waiting` only, so a late check or a copy of the event that finds
 *   the agent online meets this state and finishes the failure instead.
 * - `claimed`: an invocation holds the claim until `LeaseUntil` and may send
 *   the command until `SendBy`; no command id yet.
 * - `sent`: the command exists; `CommandId` names it. Nothing is sent again.
 * - `ended`: the action ended without a command (refused send, action already
 *   over); nothing is sent.
 */
import { randomUUID } from 'node:crypto';
import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { ACTION_TABLE_KEY, ActionTable, instanceOfPartition, partitionOf } from './action-table';
import { clientOptions } from './client-options';
import { conditionMet, unlessConditionFailed } from './conditional-write';
import type { LifecycleAction } from './events';

const dynamodb = new DynamoDBClient(clientOptions());

export type ActionState = 'waiting' | 'failing' | 'claimed' | 'sent' | 'ended';

export interface ActionRecord {
  readonly instanceId: string;
  readonly token: string;
  /**
   * The Auto Scaling group the action's lifecycle event named. A hook on a
   * group of the same stack finds its group by tag; while CloudFormation
   * replaces the group, an environment may not yet know the new one.
   */
  readonly groupName?: string;
  readonly state: ActionState;
  /** The invocation holding (or last holding) the claim. */
  readonly claimId: string;
  /** The holder starts no SendCommand after this (epoch ms). */
  readonly sendBy: number;
  /** Until this the claim is the holder's alone (epoch ms); after it, another invocation may take it over. */
  readonly leaseUntil: number;
  readonly commandId?: string;
  readonly transition?: string;
  readonly origin?: string;
  readonly destination?: string;
  /** Why the action ended without a command. */
  readonly endReason?: string;
  /** The final status of the action's command, once a status event for it was handled. */
  readonly commandStatus?: string;
  /**
   * When the action began: its lifecycle event's `time` (epoch ms), when known.
   * The action's duration is measured from it, and the reconciliation pass
   * tells actions of one instance apart by it.
   */
  readonly startedAt?: number;
  /** The last heartbeat a reconciliation pass sent for the action (epoch ms). */
  readonly heartbeatAt?: number;
  /** A reconciliation pass saw the action end (completed by anyone, or timed out): nothing more to do for it. */
  readonly closed?: boolean;
  /** While `waiting`: the attempt of the registration check the chain scheduled next. */
  readonly waitAttempt?: number;
  /** The registration deadline (epoch ms), once the action waited for its agent. */
  readonly waitDeadline?: number;
  /**
   * Launch: when an invocation that claimed the action had found the instance's
   * agent online (epoch ms). An agent seen online registered: the registration
   * deadline no longer applies to it, even if it is offline a moment later.
   */
  readonly agentOnlineAt?: number;
  /** The id of the last claim or wait write, which its writer recognises after a lost answer. */
  readonly writeId?: string;
}

/** One turn of a registration wait chain: the chain, the check it schedules next, and how long it holds the action. */
export interface WaitTurn {
  readonly claimId: string;
  readonly attempt: number;
  readonly leaseUntil: number;
  /** The registration deadline passed at this turn: the record goes to `failing`, and nothing is sent. */
  readonly failing?: boolean;
}

const ACTION_RECORD_KEY = ACTION_TABLE_KEY;

/**
 * How long a record is kept after its last write: longer than a lifecycle
 * action can last (Auto Scaling's global timeout is 48 hours), so the record
 * outlives its action, and short enough that the table stays small.
 */
export const RECORD_TTL_SECONDS = 3 * 24 * 3600;

/**
 * Claims the action for this invocation: a conditional put that succeeds for
 * exactly one of any number of concurrent callers.
 * @returns true when this invocation holds the claim, false when a record already exists.
 */
export async function claimAction(
  table: ActionTable, action: LifecycleAction, claimId: string, sendBy: number, leaseUntil: number, agentOnlineAt?: number,
): Promise<boolean> {
  return madeOrOurs(table, action, (writeId) => putNewRecord(table, action, {
    State: { S: 'claimed' },
    ClaimId: { S: claimId },
    SendBy: { N: String(sendBy) },
    LeaseUntil: { N: String(leaseUntil) },
    WriteId: { S: writeId },
    ...(agentOnlineAt !== undefined ? { AgentOnlineAt: { N: String(agentOnlineAt) } } : {}),
  }));
}

/**
 * A conditional write whose condition failed may have been this call's own:
 * the SDK retries a write whose answer was lost (a 5xx after DynamoDB applied
 * it, a request timeout), and the retry meets the item as the first attempt
 * left it. Taken for "someone else holds it", that would stop the action's
 * handling until a reconciliation pass. So each claim and wait write carries
 * an id of its own (`WriteId`), and a consistent read after a failed
 * condition tells the two apart.
 */
async function madeOrOurs(
  table: ActionTable, action: Pick<LifecycleAction, 'instanceId' | 'token'>, write: (writeId: string) => Promise<boolean>,
): Promise<boolean> {
  const writeId = randomUUID();
  if (await write(writeId)) return true;
  const record = await readAction(table, action.instanceId, action.token);
  return record?.writeId === writeId;
}

/**
 * Starts the action's one chain of registration waits: a conditional put, so
 * that of any number of copies of the launch event, one starts a chain.
 * @returns false when a record already exists.
 */
export async function startWait(table: ActionTable, action: LifecycleAction, turn: WaitTurn, deadline: number): Promise<boolean> {
  return madeOrOurs(table, action, (writeId) => putNewRecord(table, action, {
    State: { S: turn.failing ? 'failing' : 'waiting' },
    ClaimId: { S: turn.claimId },
    WaitAttempt: { N: String(turn.attempt) },
    WaitDeadline: { N: String(deadline) },
    SendBy: { N: '0' },
    LeaseUntil: { N: String(turn.leaseUntil) },
    WriteId: { S: writeId },
  }));
}

/**
 * Hands the wait on to its next turn: the chain's own next check (same
 * chain), or another chain taking over one whose lease ran out. Conditional
 * on the turn the caller knows, so that of two checks of one turn (Step
 * Functions runs an Express execution twice at times), one goes on.
 * @returns false when the record left that turn (another check or chain went on, or the wait ended).
 */
export async function passWait(
  table: ActionTable, instanceId: string, token: string, from: Pick<WaitTurn, 'claimId' | 'attempt'>, to: WaitTurn,
): Promise<boolean> {
  return madeOrOurs(table, { instanceId, token }, (writeId) => conditionMet(dynamodb.send(new UpdateItemCommand({
    TableName: table.name,
    Key: key(table, instanceId, token),
    UpdateExpression: 'SET #state = :next, ClaimId = :claim, WaitAttempt = :attempt, LeaseUntil = :lease, WriteId = :writeId, #ttl = :ttl',
    ConditionExpression: '#state = :waiting AND ClaimId = :fromClaim AND WaitAttempt = :fromAttempt',
    ExpressionAttributeNames: { '#state': 'State', '#ttl': ACTION_RECORD_KEY.ttl },
    ExpressionAttributeValues: {
      ':claim': { S: to.claimId },
      ':attempt': { N: String(to.attempt) },
      ':lease': { N: String(to.leaseUntil) },
      ':ttl': { N: String(expiresAt()) },
      ':waiting': { S: 'waiting' },
      ':next': { S: to.failing ? 'failing' : 'waiting' },
      ':fromClaim': { S: from.claimId },
      ':fromAttempt': { N: String(from.attempt) },
      ':writeId': { S: writeId },
    },
  }))));
}

async function putNewRecord(table: ActionTable, action: LifecycleAction, state: Record<string, AttributeValue>): Promise<boolean> {
  return conditionMet(dynamodb.send(new PutItemCommand({
    TableName: table.name,
    Item: {
      [ACTION_RECORD_KEY.partition]: { S: partitionOf(table, action.instanceId) },
      [ACTION_RECORD_KEY.sort]: { S: action.token },
      ...state,
      Transition: { S: action.transition },
      ...(action.groupName ? { GroupName: { S: action.groupName } } : {}),
      ...(action.origin ? { Origin: { S: action.origin } } : {}),
      ...(action.destination ? { Destination: { S: action.destination } } : {}),
      ...(action.startedAt ? { StartedAt: { N: String(action.startedAt) } } : {}),
      [ACTION_RECORD_KEY.ttl]: { N: String(expiresAt()) },
    },
    ConditionExpression: 'attribute_not_exists(#pk)',
    ExpressionAttributeNames: { '#pk': ACTION_RECORD_KEY.partition },
  })));
}

/** The action's record, read after every write that preceded it (a strongly consistent read). */
export async function readAction(table: ActionTable, instanceId: string, token: string): Promise<ActionRecord | undefined> {
  const got = await dynamodb.send(new GetItemCommand({
    TableName: table.name,
    Key: key(table, instanceId, token),
    ConsistentRead: true,
  }));
  return got.Item ? fromItem(got.Item) : undefined;
}

/**
 * Takes over a claim whose lease has run out, from the holder named in it; or
 * claims an action at the end of its registration wait, from the chain named
 * in it (which stops there: its next check finds the action claimed).
 * Of several invocations that try at once, one succeeds.
 * @param agentOnlineAt when the caller found the agent online, if it checked (launch): kept as `AgentOnlineAt`.
 * @returns false when the claim changed meanwhile (another invocation took it, or the command was recorded).
 */
export async function takeOverClaim(
  table: ActionTable,
  previous: Pick<ActionRecord, 'instanceId' | 'token' | 'state' | 'claimId'>,
  claimId: string,
  sendBy: number,
  leaseUntil: number,
  agentOnlineAt?: number,
): Promise<boolean> {
  const seen = agentOnlineAt !== undefined ? ', AgentOnlineAt = :seen' : '';
  return madeOrOurs(table, previous, (writeId) => conditionMet(dynamodb.send(new UpdateItemCommand({
    TableName: table.name,
    Key: key(table, previous.instanceId, previous.token),
    UpdateExpression: `SET #state = :claimed, ClaimId = :claim, SendBy = :sendBy, LeaseUntil = :lease, WriteId = :writeId, #ttl = :ttl${seen}`,
    // The state seen, not only the holder: a wait's chain and a claim may carry the same id (a Lambda retry keeps its request id).
    ConditionExpression: '#state = :previousState AND ClaimId = :previous',
    ExpressionAttributeNames: { '#state': 'State', '#ttl': ACTION_RECORD_KEY.ttl },
    ExpressionAttributeValues: {
      ':previousState': { S: previous.state === 'waiting' ? 'waiting' : 'claimed' },
      ':claim': { S: claimId },
      ':sendBy': { N: String(sendBy) },
      ':lease': { N: String(leaseUntil) },
      ':ttl': { N: String(expiresAt()) },
      ':claimed': { S: 'claimed' },
      ':previous': { S: previous.claimId },
      ':writeId': { S: writeId },
      ...(agentOnlineAt !== undefined ? { ':seen': { N: String(agentOnlineAt) } } : {}),
    },
  }))));
}

/** What recording a command came to. */
export interface CommandRecording {
  /**
   * This write gave the record its command id. Of all the writes of one
   * command's id (its sender, an invocation that found it after a lost answer
   * or a take-over, its status event), exactly one is first: the one that
   * counts the command as sent.
   */
  readonly first: boolean;
  /** The command id already recorded, when it differs (an invariant broken: two commands for one action). */
  readonly other?: string;
}

/** Records the action's command as soon as its id is known. */
export async function recordCommand(table: ActionTable, action: LifecycleAction, commandId: string): Promise<CommandRecording> {
  const updated = await unlessConditionFailed(dynamodb.send(new UpdateItemCommand({
    TableName: table.name,
    Key: key(table, action.instanceId, action.token),
    UpdateExpression: 'SET #state = :sent, CommandId = :command, #ttl = :ttl',
    ConditionExpression: 'attribute_not_exists(CommandId) OR CommandId = :command',
    ExpressionAttributeNames: { '#state': 'State', '#ttl': ACTION_RECORD_KEY.ttl },
    ExpressionAttributeValues: { ':sent': { S: 'sent' }, ':command': { S: commandId }, ':ttl': { N: String(expiresAt()) } },
    ReturnValues: 'ALL_OLD',
  })));
  if (updated) return { first: !updated.Attributes?.CommandId };
  return { first: false, other: (await readAction(table, action.instanceId, action.token))?.commandId };
}

/** Marks an action that ended without a command, so later events for it send nothing. A recorded command is left as it is. */
export async function markEnded(table: ActionTable, action: LifecycleAction, reason: string): Promise<void> {
  await conditionMet(dynamodb.send(new UpdateItemCommand({
    TableName: table.name,
    Key: key(table, action.instanceId, action.token),
    UpdateExpression: 'SET #state = :ended, EndReason = :reason, #ttl = :ttl',
    ConditionExpression: 'attribute_exists(#pk) AND attribute_not_exists(CommandId)',
    ExpressionAttributeNames: { '#state': 'State', '#ttl': ACTION_RECORD_KEY.ttl, '#pk': ACTION_RECORD_KEY.partition },
    ExpressionAttributeValues: { ':ended': { S: 'ended' }, ':reason': { S: reason.slice(0, 200) }, ':ttl': { N: String(expiresAt()) } },
  })));
}

/** What recording a command's final status found. */
export interface CommandEnding {
  /** The first status recorded for the command: later status events of it (duplicates) are not counted again. */
  readonly first: boolean;
  /** The record had no command id until now: no invocation had recorded (and counted) the command as sent. */
  readonly newlyRecorded: boolean;
  /** The record as it was before, when there was one. */
  readonly previous?: ActionRecord;
}

/**
 * Records the command's final status on its action, once: of any number of
 * status events for the command, exactly one finds `first`. A record that
 * lacks the command id (its sender stopped before recording it) gains it.
 */
export async function recordCommandEnded(
  table: ActionTable, instanceId: string, token: string, commandId: string, status: string,
): Promise<CommandEnding> {
  const updated = await unlessConditionFailed(dynamodb.send(new UpdateItemCommand({
    TableName: table.name,
    Key: key(table, instanceId, token),
    UpdateExpression: 'SET #state = :sent, CommandId = if_not_exists(CommandId, :command), CommandStatus = :status, #ttl = :ttl',
    ConditionExpression: 'attribute_not_exists(CommandStatus)',
    ExpressionAttributeNames: { '#state': 'State', '#ttl': ACTION_RECORD_KEY.ttl },
    ExpressionAttributeValues: {
      ':sent': { S: 'sent' }, ':command': { S: commandId }, ':status': { S: status }, ':ttl': { N: String(expiresAt()) },
    },
    ReturnValues: 'ALL_OLD',
  })));
  if (!updated) return { first: false, newlyRecorded: false };
  const previous = updated.Attributes ? fromItem(updated.Attributes) : undefined;
  return { first: true, newlyRecorded: !previous?.commandId, previous };
}

/** Every action record of the instance (normally one; two for a warm-pool instance), read consistently. */
export async function actionsOfInstance(table: ActionTable, instanceId: string): Promise<ActionRecord[]> {
  const records: ActionRecord[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(new QueryCommand({
      TableName: table.name,
      KeyConditionExpression: '#pk = :instance',
      ExpressionAttributeNames: { '#pk': ACTION_RECORD_KEY.partition },
      ExpressionAttributeValues: { ':instance': { S: partitionOf(table, instanceId) } },
      ConsistentRead: true,
      ExclusiveStartKey: start,
    }));
    // Tokens are UUIDs; other sort keys (the reconciliation pass's `#current` item) are not action records.
    records.push(...(page.Items ?? []).filter((item) => !item[ACTION_RECORD_KEY.sort]?.S?.startsWith('#')).map(fromItem));
    start = page.LastEvaluatedKey;
  } while (start);
  return records;
}

/** Notes the time of a heartbeat the reconciliation pass sent for the action. */
export async function recordHeartbeat(table: ActionTable, record: ActionRecord, atMs: number): Promise<void> {
  await conditionMet(dynamodb.send(new UpdateItemCommand({
    TableName: table.name,
    Key: key(table, record.instanceId, record.token),
    UpdateExpression: 'SET HeartbeatAt = :at, #ttl = :ttl',
    ConditionExpression: 'attribute_exists(#pk)',
    ExpressionAttributeNames: { '#ttl': ACTION_RECORD_KEY.ttl, '#pk': ACTION_RECORD_KEY.partition },
    ExpressionAttributeValues: { ':at': { N: String(atMs) }, ':ttl': { N: String(expiresAt()) } },
  })));
}

/** Marks an action that has ended, so that later passes leave its record alone. */
export async function markClosed(table: ActionTable, record: ActionRecord): Promise<void> {
  await conditionMet(dynamodb.send(new UpdateItemCommand({
    TableName: table.name,
    Key: key(table, record.instanceId, record.token),
    UpdateExpression: 'SET Closed = :yes',
    ConditionExpression: 'attribute_exists(#pk)',
    ExpressionAttributeNames: { '#pk': ACTION_RECORD_KEY.partition },
    ExpressionAttributeValues: { ':yes': { BOOL: true } },
  })));
}

/**
 * What a later event for the same action does on meeting an existing record:
 * nothing when the command exists or the action ended; claim it from its
 * registration wait (the caller found the agent online); nothing while the
 * holder's lease runs (it is working, and its own failure path ends the
 * action); take the claim over once the lease has run out.
 */
export function nextStepForExisting(record: ActionRecord, nowMs: number): 'command-exists' | 'ended' | 'failing' | 'waiting' | 'held' | 'take-over' {
  if (record.state === 'sent' || record.commandId) return 'command-exists';
  if (record.state === 'ended') return 'ended';
  if (record.state === 'failing') return 'failing';
  if (record.state === 'waiting') return 'waiting';
  return nowMs < record.leaseUntil ? 'held' : 'take-over';
}

function key(table: ActionTable, instanceId: string, token: string): Record<string, AttributeValue> {
  return { [ACTION_RECORD_KEY.partition]: { S: partitionOf(table, instanceId) }, [ACTION_RECORD_KEY.sort]: { S: token } };
}

function expiresAt(): number {
  return Math.floor(Date.now() / 1000) + RECORD_TTL_SECONDS;
}

/**
 * `StartedAt`; or, in a record written before it existed (kept up to three
 * days, so still in the table after an upgrade), the event's time as the
 * `EventTime` string that such records carry.
 */
function startedAtOf(item: Record<string, AttributeValue>): number | undefined {
  const started = item.StartedAt?.N !== undefined ? Number(item.StartedAt.N) : Date.parse(item.EventTime?.S ?? '');
  return Number.isFinite(started) ? started : undefined;
}

function fromItem(item: Record<string, AttributeValue>): ActionRecord {
  const s = (name: string) => item[name]?.S;
  const n = (name: string) => Number(item[name]?.N ?? 0);
  const state = s('State');
  return {
    instanceId: instanceOfPartition(s(ACTION_RECORD_KEY.partition) ?? ''),
    token: s(ACTION_RECORD_KEY.sort) ?? '',
    ...(s('GroupName') !== undefined ? { groupName: s('GroupName') } : {}),
    state: state === 'waiting' || state === 'failing' || state === 'sent' || state === 'ended' ? state : 'claimed',
    claimId: s('ClaimId') ?? '',
    sendBy: n('SendBy'),
    leaseUntil: n('LeaseUntil'),
    commandId: s('CommandId'),
    transition: s('Transition'),
    origin: s('Origin'),
    destination: s('Destination'),
    endReason: s('EndReason'),
    commandStatus: s('CommandStatus'),
    startedAt: startedAtOf(item),
    heartbeatAt: item.HeartbeatAt?.N ? Number(item.HeartbeatAt.N) : undefined,
    closed: item.Closed?.BOOL === true,
    waitAttempt: item.WaitAttempt?.N ? Number(item.WaitAttempt.N) : undefined,
    waitDeadline: item.WaitDeadline?.N ? Number(item.WaitDeadline.N) : undefined,
    agentOnlineAt: item.AgentOnlineAt?.N ? Number(item.AgentOnlineAt.N) : undefined,
    writeId: s('WriteId'),
  };
}
