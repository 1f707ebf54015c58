/**
 * Shorthands for common faults. Each returns plain option data; anything they
 * build can also be written out by hand in a scenario's options.
 */
import type { ApiFault, Selector } from './options';
import { OPERATIONS } from './server';

/** Both services throttle at `rate`: Auto Scaling answers `Throttling`, SSM `ThrottlingException` (HTTP 400). */
export function throttling(rate: number, selector: Selector & { operations?: readonly string[] } = {}): ApiFault[] {
  const pick = (ops: readonly string[]) => (selector.operations ? ops.filter((o) => selector.operations!.includes(o)) : ops);
  return [
    { ...selector, rate, operations: pick(OPERATIONS.autoscaling), error: { code: 'Throttling', message: 'Rate exceeded' } },
    { ...selector, rate, operations: pick(OPERATIONS.ssm), error: { code: 'ThrottlingException', message: 'Rate exceeded' } },
  ];
}

/** CompleteLifecycleAction answers `ResourceContention` (HTTP 500), as Auto Scaling does when the group is busy. */
export function resourceContention(selector: Selector = {}): ApiFault {
  return {
    ...selector,
    operations: ['CompleteLifecycleAction'],
    error: { code: 'ResourceContention', message: 'You already have a pending update to an Auto Scaling resource (for example, a group, instance, or load balancer).' },
  };
}

/** The instance named by a call vanishes right after that call (e.g. after ListCommands, before SendCommand). */
export function disappearsAfter(operation: string, instances: readonly number[]): ApiFault {
  return { operations: [operation], instances, after: 'disappear', times: instances.length };
}
