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
