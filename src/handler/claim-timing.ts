/** The timing of a claim on a lifecycle action, shared by the event path and the reconciliation pass. */

/**
 * How long after claiming an action its holder may start a SendCommand: one
 * attempt, and one more after a lost answer has been looked for (see
 * LOST_ANSWER_CHECKS_MS).
 */
export const SEND_WINDOW_MS = 20_000;

/**
 * How long the claim stays the holder's after its send window: longer than
 * ListCommands takes to show a command (well under LOST_ANSWER_CHECKS_MS's
 * 15 s), so that whoever takes the claim over afterwards sees any command the
 * holder sent. The whole lease (50 s) is shorter than Lambda's first retry
 * delay (1 minute), so the retry of a holder that crashed takes the claim over.
 */
export const LEASE_MARGIN_MS = 30_000;

/**
 * How long a chain of registration waits holds its action beyond the wait it
 * has just started: longer than starting an Express execution and Lambda's
 * queue normally take to deliver the next check, so that a copy of the launch
 * event meets a running chain and starts none; and, with the longest wait
 * (20 s), shorter than Lambda's first retry delay (1 minute), so that the
 * retry of a first attempt that stopped before starting its wait takes the
 * chain over. A check that comes later still goes on, unless another chain
 * took over meanwhile: then it stops, and one chain remains.
 */
export const WAIT_LEASE_MARGIN_MS = 30_000;
