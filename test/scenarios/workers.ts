/**
 * Runs the scenario runner's tasks in worker processes, one per core by
 * default: each scenario and each base run of the sweep is independent of the
 * others (the stand-in is deterministic and a run shares nothing with another),
 * so they spread over processes and come back in the order they were listed.
 *
 * A worker is this same program started with `--worker` (TypeScript compiled
 * without type checks: the parent's run has checked them), on the same Node.js
 * binary and environment as its parent.
 */
import { fork } from 'child_process';
import type { ChildProcess } from 'child_process';
import { availableParallelism } from 'os';

export const WORKER_FLAG = '--worker';

/** How many workers: `--jobs=N`, else SCENARIO_JOBS, else one per core; never more than there are tasks. */
export function workerCount(args: readonly string[], tasks: number): number {
  const given = args.find((a) => a.startsWith('--jobs='))?.slice('--jobs='.length) ?? process.env.SCENARIO_JOBS;
  const wanted = given === undefined ? availableParallelism() : Number(given);
  if (!Number.isInteger(wanted) || wanted < 1) throw new Error(`--jobs / SCENARIO_JOBS must be a whole number of 1 or more, got "${given}"`);
  return Math.max(1, Math.min(wanted, tasks));
}

/**
 * Runs `run` over `tasks` in `jobs` worker processes (or in this process when
 * `jobs` is 1); `done` hears of each result in the tasks' order, as soon as it
 * and every task before it have finished. The workers take the tasks heaviest
 * first by `weight` (a guess of their length), so that a long one does not
 * start last while the other workers sit idle.
 */
export async function runTasks<T, R>(
  tasks: readonly T[], jobs: number, script: string, run: (task: T) => Promise<R>, done: (result: R, index: number) => void,
  weight: (task: T) => number = () => 0,
): Promise<void> {
  const results = new Map<number, R>();
  let next = 0;
  const settle = (index: number, result: R) => {
    results.set(index, result);
    while (results.has(next)) {
      done(results.get(next)!, next);
      results.delete(next);
      next++;
    }
  };
  if (jobs <= 1) {
    for (const [index, task] of tasks.entries()) settle(index, await run(task));
    return;
  }
  const order = tasks.map((task, index) => ({ index, weight: weight(task) })).sort((a, b) => b.weight - a.weight).map((t) => t.index);
  let queued = 0;
  const worker = (): Promise<void> => new Promise((resolve, reject) => {
    const child: ChildProcess = fork(script, [WORKER_FLAG], {
      // Not process.execArgv: under ts-node's command line it holds ts-node's own arguments.
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      env: { ...process.env, TS_NODE_PROJECT: process.env.TS_NODE_PROJECT ?? 'tsconfig.dev.json' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let current: number | undefined;
    const give = () => {
      if (queued >= tasks.length) {
        current = undefined;
        child.disconnect();
        return;
      }
      current = order[queued++];
      child.send({ index: current, task: tasks[current] });
    };
    child.on('message', (message: { index: number; result: R }) => {
      settle(message.index, message.result);
      give();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (current === undefined) resolve();
      else reject(new Error(`a scenario worker exited (${signal ?? `code ${code}`}) while running task ${current + 1} of ${tasks.length}`));
    });
    give();
  });
  await Promise.all(Array.from({ length: jobs }, worker));
}

/** In a worker: runs each task its parent sends, and sends back the result, until the parent disconnects. */
export function serveTasks<T, R>(run: (task: T) => Promise<R>): void {
  process.on('disconnect', () => process.exit());
  process.on('message', (message: { index: number; task: T }) => {
    void run(message.task).then((result) => process.send!({ index: message.index, result }), (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    });
  });
}
