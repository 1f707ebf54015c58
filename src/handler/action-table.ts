/**
 * The shape of the table of action records, shared by the construct that
 * creates it and the handler that writes it. No AWS calls here: the construct
 * imports it at synth time.
 *
 * One table serves every hook of a runtime. A hook's records are kept apart by
 * their partition key, the hook's key and the instance id together, so one
 * Query finds every action of an instance for that hook alone, as if the hook
 * had a table of its own.
 */
export const ACTION_TABLE_KEY = {
  /** Partition key: the hook and the instance (`<hook>|<instance id>`). */
  partition: 'HookInstance',
  /** Sort key: the lifecycle action token. */
  sort: 'LifecycleActionToken',
  /** Epoch seconds after which DynamoDB deletes the record (its TTL attribute). */
  ttl: 'ExpiresAt',
} as const;

/** The runtime's table, as one hook's records in it. */
export interface ActionTable {
  /** The table's name. */
  readonly name: string;
  /** The hook's key: the name of its document, unique in the runtime. */
  readonly hook: string;
}

const SEPARATOR = '|';

/** The partition key of the hook's records of an instance. */
export function partitionOf(table: ActionTable, instanceId: string): string {
  return `${table.hook}${SEPARATOR}${instanceId}`;
}

/** The instance id of a partition key (document names never hold the separator). */
export function instanceOfPartition(partition: string): string {
  return partition.slice(partition.lastIndexOf(SEPARATOR) + 1);
}
