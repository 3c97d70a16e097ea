/**
 * Runs `cli.ts up` ({@linkcode runUp}) inside a test: output collected,
 * no signal handlers, stopped once the test's work while it is ready is done.
 *
 * @module
 */
import { runUp, type UpOptions } from "../../cli/up.ts";
import type { Stack } from "../../mod.ts";

/** What `up` printed and its exit code. */
export interface UpRun {
  /** Exit code. */
  code: number;
  /** Lines printed. */
  out: string[];
  /** Error lines printed. */
  err: string[];
}

/** Runs `up` with `args`; `whileReady` runs once it is ready, then the command is stopped. */
export async function runUpWhileReady(
  args: string[],
  whileReady: (stack: Stack, hosts?: readonly Stack[]) => Promise<void> = async () => {},
  extra: Partial<UpOptions> = {},
): Promise<UpRun> {
  const out: string[] = [];
  const err: string[] = [];
  const stop = new AbortController();
  const code = await runUp(args, {
    handleSignals: false,
    signal: stop.signal,
    print: (l) => out.push(l),
    printError: (l) => err.push(l),
    onReady: async (stack, hosts) => {
      try {
        await whileReady(stack, hosts);
      } finally {
        stop.abort();
      }
    },
    ...extra,
  });
  return { code, out, err };
}
