/**
 * Runs `cli.ts` in a child process, as a user would: for the command-line
 * tests (tests/cli/conventions_test, tests/usage/cli_help_test and
 * cli_stdin_test, tests/review/cli_stdin_review_test).
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url).pathname;

/** What {@linkcode runCli} varies. */
export interface RunCliOptions {
  /** Standard input's bytes (default: none, stdin closed). */
  readonly input?: Uint8Array | string;
  /** The working directory (default the repository). */
  readonly cwd?: string;
  /** Deno's permission flags (default `-A`). */
  readonly permissions?: readonly string[];
}

/** Runs `deno run PERMISSIONS cli.ts ARGS` (60 s at most) and returns its exit code and output. */
export async function runCli(
  args: readonly string[],
  options: RunCliOptions = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const input = options.input;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...(options.permissions ?? ["-A"]), `${ROOT}cli.ts`, ...args],
    cwd: options.cwd ?? ROOT,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(60_000),
  }).spawn();
  if (input !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(typeof input === "string" ? new TextEncoder().encode(input) : input);
    await w.close();
  }
  const r = await child.output();
  const d = new TextDecoder();
  return { code: r.code, stdout: d.decode(r.stdout), stderr: d.decode(r.stderr) };
}
