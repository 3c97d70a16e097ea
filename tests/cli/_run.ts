/**
 * Runs `cli.ts` in a child process with `input` on its standard input, for
 * the tests of `-` as standard input (tests/usage/cli_stdin_test,
 * tests/review/cli_stdin_review_test).
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url).pathname;

/** Runs `cli.ts ARGS` in `cwd` (default the repository) with `input` on stdin; 60 s at most. */
export async function runCliWithInput(
  args: readonly string[],
  input: Uint8Array | string,
  cwd = ROOT,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}cli.ts`, ...args],
    cwd,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
    signal: AbortSignal.timeout(60_000),
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(typeof input === "string" ? new TextEncoder().encode(input) : input);
  await w.close();
  const r = await child.output();
  const d = new TextDecoder();
  return { code: r.code, stdout: d.decode(r.stdout), stderr: d.decode(r.stderr) };
}
