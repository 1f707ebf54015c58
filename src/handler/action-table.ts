/**
 * The shape of the table of action records, shared by the construct that
 * creates it and the handler that writes it. No AWS calls here: the construct
 * imports it at synth time.
 */
export const ACTION_TABLE_KEY = {
  /** Partition key: the instance, so one Query finds every action of an instance. */
  partition: 'InstanceId',
  /** Sort key: the lifecycle action token. */
  sort: 'LifecycleActionToken',
  /** Epoch seconds after which DynamoDB deletes the record (its TTL attribute). */
  ttl: 'ExpiresAt',
} as const;
