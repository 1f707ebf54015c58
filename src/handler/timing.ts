/** Waiting, in one place, so that tests can let waits pass without taking real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
