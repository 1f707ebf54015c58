/**
 * The runtime's reconciliation pass: one scheduled invocation serves every
 * hook whose parameter is under the runtime's path (reconcile.ts does one
 * hook). Hooks are passed a few at a time, each on its own: one hook's
 * trouble (its group gone, its role not yet assumable, its calls throttled)
 * is logged and left to the next pass, and costs the others nothing.
 */
import { errorName } from './aws-errors';
import { allHookSettings, hookConfig, RuntimeSettings } from './hook-config';
import { describeGroups, reconcile } from './reconcile';

/** Hooks passed at once; each passes up to PASS_CONCURRENCY instances at once. */
export const HOOK_CONCURRENCY = 4;

export async function passAllHooks(runtime: RuntimeSettings, remainingMs: () => number, requestId?: string): Promise<number> {
  const hooks = await allHookSettings(runtime);
  if (hooks.length === 0) return 0;
  // One DescribeAutoScalingGroups for up to 50 groups: an idle pass costs the same few calls whatever the number of hooks.
  const groups = await describeGroups(hooks.map((h) => h.groupName));
  let next = 0;
  const worker = async () => {
    while (next < hooks.length) {
      const settings = hooks[next++];
      try {
        await reconcile(hookConfig(settings, runtime), remainingMs, requestId, groups.get(settings.groupName) ?? null);
      } catch (error) {
        console.warn({
          message: 'reconciliation of a hook failed; the next pass tries again',
          groupName: settings.groupName,
          hookName: settings.hookName,
          error: errorName(error),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(HOOK_CONCURRENCY, hooks.length) }, worker));
  return hooks.length;
}
