/**
 * DynamoDB's conditional writes, read as the handler uses them: a write whose
 * condition failed found the item in another state (another invocation got
 * there first), which is an answer, not an error.
 */
import { isConditionFailed } from './aws-errors';

/**
 * Awaits a conditional write.
 * @returns its answer, or undefined when its condition failed.
 * @throws any other error, as it came.
 */
export async function unlessConditionFailed<T extends object>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (error) {
    if (isConditionFailed(error)) return undefined;
    throw error;
  }
}

/**
 * Awaits a conditional write.
 * @returns true when it was made, false when its condition failed.
 * @throws any other error, as it came.
 */
export async function conditionMet(write: Promise<object>): Promise<boolean> {
  return (await unlessConditionFailed(write)) !== undefined;
}
