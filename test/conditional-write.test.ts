import { conditionMet, unlessConditionFailed } from '../src/handler/conditional-write';

const conditionFailed = Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' });

describe('conditional writes', () => {
  test('a write made is true, and its answer is returned', async () => {
    await expect(conditionMet(Promise.resolve({}))).resolves.toBe(true);
    await expect(unlessConditionFailed(Promise.resolve({ Attributes: { a: 1 } }))).resolves.toEqual({ Attributes: { a: 1 } });
  });

  test('a failed condition is false (no answer), not an error', async () => {
    await expect(conditionMet(Promise.reject(conditionFailed))).resolves.toBe(false);
    await expect(unlessConditionFailed(Promise.reject(conditionFailed))).resolves.toBeUndefined();
  });

  test('any other error is thrown as it came', async () => {
    await expect(conditionMet(Promise.reject(throttled))).rejects.toBe(throttled);
    await expect(unlessConditionFailed(Promise.reject(throttled))).rejects.toBe(throttled);
  });
});
