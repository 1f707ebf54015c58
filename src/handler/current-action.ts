/**
 * The claim a reconciliation pass makes on a lifecycle action whose event never
 * arrived, and so whose token it does not know: one item per instance in the
 * hook's table (sort key `#current`, beside the instance's action records).
 *
 * Without the event the pass knows only that this hook has a pending action on
 * the instance (a heartbeat by instance id succeeds). A late copy of the event
 * may still arrive and claim the action by its token. The two claims are
 * settled on this one item, so that:
 *
 * - I1, one command per action. The event path writes its token record, then
 *   reads this item; the pass writes this item, then reads the token records.
 *   Each write precedes the other's read (strongly consistent), so at least
 *   one path sees the other. The pass that sees a live token record releases
 *   its claim (conditional on no token adopted); the event path that sees a
 *   pass claim made after its action began adopts it (sets `Token`,
 *   conditional on none adopted and the claim unchanged). Release and adoption
 *   exclude each other, so exactly one path sends.
 * - I2, a pass claim belongs to the action pending when it was made. An event
 *   adopts only a claim made after its action began (`ClaimedAt` > the event's
 *   `time`): an older claim belonged to an earlier action of the instance.
 * - I3, never a completion of another action. A pass command is completed by
 *   its token once adopted; by instance id (the hook's pending action, whatever
 *   its token) only while no token record of a later action exists and the
 *   instance is still in the wait state the claim was made in.
 * - I4, a sighting is not a claim. The pass acts only on an instance an
 *   earlier pass saw waiting without a record (at least half a period before),
 *   which leaves a delayed event until the next pass to arrive and take the
 *   ordinary path. A later event is still safe by I1 and I2.
 */
import { DynamoDBClient, PutItemCommand, QueryCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { ACTION_TABLE_KEY, ActionTable, instanceOfPartition, partitionOf } from './action-table';
import { clientOptions } from './client-options';
import { conditionMet, unlessConditionFailed } from './conditional-write';

const dynamodb = new DynamoDBClient(clientOptions());

/** The sort key of the pass's item: not a token (tokens are UUIDs). */
export const CURRENT_SORT_KEY = '#current';

export type CurrentState = 'sighted' | 'claimed' | 'sent' | 'done';

export interface CurrentAction {
  readonly instanceId: string;
  readonly state: CurrentState;
  /** When a pass first saw the instance waiting without a record (epoch ms); names the action in the command's comment. */
  readonly sightedAt: number;
  /** The instance's lifecycle state at the sighting. */
  readonly waitState: string;
  readonly claimId?: string;
  readonly claimedAt?: number;
  readonly leaseUntil?: number;
  readonly commandId?: string;
  /** The action's token, once a late event adopted the claim. */
  readonly token?: string;
  readonly heartbeatAt?: number;
}

/** The instance's `#current` item, if any, read consistently. */
export async function readCurrent(table: ActionTable, instanceId: string): Promise<CurrentAction | undefined> {
  const got = await dynamodb.send(new QueryCommand({
    TableName: table.name,
    KeyConditionExpression: '#pk = :instance AND #sk = :current',
    ExpressionAttributeNames: { '#pk': ACTION_TABLE_KEY.partition, '#sk': ACTION_TABLE_KEY.sort },
    ExpressionAttributeValues: { ':instance': { S: partitionOf(table, instanceId) }, ':current': { S: CURRENT_SORT_KEY } },
    ConsistentRead: true,
  }));
  const item = got.Items?.[0];
  return item ? fromItem(item) : undefined;
}

/** Notes the first sighting of the instance waiting without a record; replaces a finished item of an earlier action. */
export async function sight(table: ActionTable, instanceId: string, nowMs: number, waitState: string, ttlSeconds: number): Promise<boolean> {
  return conditionMet(dynamodb.send(new PutItemCommand({
    TableName: table.name,
    Item: {
      ...key(table, instanceId),
      State: { S: 'sighted' },
      SightedAt: { N: String(nowMs) },
      WaitState: { S: waitState },
      [ACTION_TABLE_KEY.ttl]: { N: String(Math.floor(nowMs / 1000) + ttlSeconds) },
    },
    ConditionExpression: 'attribute_not_exists(#pk) OR #state = :done',
    ExpressionAttributeNames: { '#pk': ACTION_TABLE_KEY.partition, '#state': 'State' },
    ExpressionAttributeValues: { ':done': { S: 'done' } },
  })));
}

/** Claims the sighted action (or takes over a claim whose lease ran out without a command). */
export async function claimCurrent(
  table: ActionTable, previous: CurrentAction, claimId: string, nowMs: number, leaseUntil: number,
): Promise<boolean> {
  return conditionMet(dynamodb.send(new UpdateItemCommand({
    TableName: table.name,
    Key: key(table, previous.instanceId),
    UpdateExpression: 'SET #state = :claimed, ClaimId = :claim, ClaimedAt = if_not_exists(ClaimedAt, :now), LeaseUntil = :lease',
    ConditionExpression: previous.state === 'sighted'
      ? '#state = :sighted AND SightedAt = :sightedAt'
      : '#state = :claimed AND ClaimId = :previous AND attribute_not_exists(CommandId)',
    ExpressionAttributeNames: { '#state': 'State' },
    ExpressionAttributeValues: {
      ':claimed': { S: 'claimed' },
      ':claim': { S: claimId },
      ':now': { N: String(nowMs) },
      ':lease': { N: String(leaseUntil) },
      ...(previous.state === 'sighted'
        ? { ':sighted': { S: 'sighted' }, ':sightedAt': { N: String(previous.sightedAt) } }
        : { ':previous': { S: previous.claimId ?? '' } }),
    },
  })));
}

/**
 * The event path's side of I1 and I2: a pass claim made after the event's
 * action began is that action's; the event hands it its token and sends nothing.
 * A claim that already carries the action's token was adopted by this action
 * before (a lost answer's retry, a Lambda retry, a copy of the event): it is
 * the pass's still, and is found adopted again.
 * @returns the adopted item, or undefined when no such claim exists (the event path sends as usual).
 */
export async function adoptCurrent(table: ActionTable, instanceId: string, token: string, startedAt: number): Promise<CurrentAction | undefined> {
  const updated = await unlessConditionFailed(dynamodb.send(new UpdateItemCommand({
    TableName: table.name,
    Key: key(table, instanceId),
    UpdateExpression: 'SET #token = :token',
    // Or adopted already by this action: an earlier attempt whose answer was lost, or an invocation of the
    // same action that stopped after adopting (its Lambda retry, a copy of its event) meets its own effect.
    ConditionExpression: '#token = :token OR (#state IN (:claimed, :sent) AND attribute_not_exists(#token) AND ClaimedAt > :startedAt)',
    ExpressionAttributeNames: { '#state': 'State', '#token': 'Token' },
    ExpressionAttributeValues: {
      ':token': { S: token },
      ':claimed': { S: 'claimed' },
      ':sent': { S: 'sent' },
      ':startedAt': { N: String(startedAt) },
    },
    ReturnValues: 'ALL_NEW',
  })));
  return updated?.Attributes ? fromItem(updated.Attributes) : undefined;
}

/**
 * The pass's side of I1: it saw a live token record after claiming, so the
 * event path sends. Fails when an event adopted the claim first: then the pass sends.
 */
export async function releaseCurrent(table: ActionTable, instanceId: string, claimId: string): Promise<boolean> {
  return conditionMet(dynamodb.send(new UpdateItemCommand({
    TableName: table.name,
    Key: key(table, instanceId),
    UpdateExpression: 'SET #state = :done',
    ConditionExpression: 'ClaimId = :claim AND attribute_not_exists(#token)',
    ExpressionAttributeNames: { '#state': 'State', '#token': 'Token' },
    ExpressionAttributeValues: { ':done': { S: 'done' }, ':claim': { S: claimId } },
  })));
}

export async function recordCurrentCommand(table: ActionTable, instanceId: string, claimId: string, commandId: string): Promise<boolean> {
  return conditionMet(dynamodb.send(new UpdateItemCommand({
    TableName: table.name,
    Key: key(table, instanceId),
    UpdateExpression: 'SET #state = :sent, CommandId = :command',
    ConditionExpression: 'ClaimId = :claim AND (attribute_not_exists(CommandId) OR CommandId = :command)',
    ExpressionAttributeNames: { '#state': 'State' },
    ExpressionAttributeValues: { ':sent': { S: 'sent' }, ':command': { S: commandId }, ':claim': { S: claimId } },
  })));
}

/** The pass's command ended and its action was completed (or had ended): the item no longer holds anything. */
export async function finishCurrent(table: ActionTable, instanceId: string, commandId?: string): Promise<void> {
  await conditionMet(dynamodb.send(new UpdateItemCommand({
    TableName: table.name,
    Key: key(table, instanceId),
    UpdateExpression: 'SET #state = :done',
    ConditionExpression: commandId ? 'CommandId = :command' : 'attribute_exists(#state)',
    ExpressionAttributeNames: { '#state': 'State' },
    ExpressionAttributeValues: { ':done': { S: 'done' }, ...(commandId ? { ':command': { S: commandId } } : {}) },
  })));
}

export async function recordCurrentHeartbeat(table: ActionTable, instanceId: string, atMs: number): Promise<void> {
  await conditionMet(dynamodb.send(new UpdateItemCommand({
    TableName: table.name,
    Key: key(table, instanceId),
    UpdateExpression: 'SET HeartbeatAt = :at',
    ConditionExpression: 'attribute_exists(#state)',
    ExpressionAttributeNames: { '#state': 'State' },
    ExpressionAttributeValues: { ':at': { N: String(atMs) } },
  })));
}

/** The pseudo token that names a pass's command in its comment: stable across take-overs of the claim, never a UUID. */
export function passActionName(current: CurrentAction): string {
  return `pass-${current.sightedAt}`;
}

function key(table: ActionTable, instanceId: string): Record<string, AttributeValue> {
  return { [ACTION_TABLE_KEY.partition]: { S: partitionOf(table, instanceId) }, [ACTION_TABLE_KEY.sort]: { S: CURRENT_SORT_KEY } };
}

export function isCurrentItemKey(sortKey: string | undefined): boolean {
  return sortKey === CURRENT_SORT_KEY;
}

function fromItem(item: Record<string, AttributeValue>): CurrentAction {
  const s = (name: string) => item[name]?.S;
  const n = (name: string) => (item[name]?.N !== undefined ? Number(item[name]!.N) : undefined);
  const state = s('State');
  return {
    instanceId: instanceOfPartition(s(ACTION_TABLE_KEY.partition) ?? ''),
    state: state === 'claimed' || state === 'sent' || state === 'done' ? state : 'sighted',
    sightedAt: n('SightedAt') ?? 0,
    waitState: s('WaitState') ?? '',
    claimId: s('ClaimId'),
    claimedAt: n('ClaimedAt'),
    leaseUntil: n('LeaseUntil'),
    commandId: s('CommandId'),
    token: s('Token'),
    heartbeatAt: n('HeartbeatAt'),
  };
}
