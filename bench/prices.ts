// List prices the benchmark turns its counts into dollars with (us-east-1,
// x86, on-demand, first pricing tier; no free tier).
//
// - Lambda: $0.20 per million requests, $0.0000166667 per GB-s, billed per ms
//   ("AWS Lambda pricing").
// - Step Functions Express Workflows: $1.00 per million requests, $0.06 per
//   GB-hour for the first 1,000 GB-hours, the duration rounded up to 100 ms and
//   the memory billed in 64 MB chunks, a small workflow using 50 MB plus its
//   definition and data ("AWS Step Functions pricing").
// - Standard Workflows: $25 per million state transitions.

export const LAMBDA_PRICES = { perMillionRequests: 0.2, perGbSecond: 0.0000166667 } as const;
export const EXPRESS_PRICES = { perMillionRequests: 1.0, perGbHour: 0.06, billedMemoryMB: 64, roundingMs: 100 } as const;
export const STANDARD_PRICES = { perMillionTransitions: 25 } as const;

/** Express GB-s of one execution of `durationMs`, as billed. */
export function expressGbSeconds(durationMs: number): number {
  const billedMs = Math.ceil(durationMs / EXPRESS_PRICES.roundingMs) * EXPRESS_PRICES.roundingMs;
  return (billedMs / 1000) * (EXPRESS_PRICES.billedMemoryMB / 1024);
}
