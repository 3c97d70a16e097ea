/**
 * tests/_require.ts, end to end: a test gated on a tool that is missing
 * (tshark, with PATH emptied) fails with a one-line reason when CI=true, and
 * is ignored, with the reason printed, otherwise. Each case runs `deno test`
 * on a small test file in a fresh process.
 *
 * @module
 */
import assert from "node:assert/strict";

const REQUIRE = new URL("../_require.ts", import.meta.url).href;

async function runGated(ci: boolean): Promise<{ code: number; out: string }> {
  const dir = await Deno.makeTempDir({ prefix: `netstack-require-${Deno.pid}-` });
  try {
    const file = `${dir}/gated_test.ts`;
    await Deno.writeTextFile(
      file,
      `import { gated } from "${REQUIRE}";\n` +
        `Deno.test(gated(["tshark"], { name: "needs tshark", fn() {} }));\n`,
    );
    const env: Record<string, string> = { PATH: "/nonexistent", NO_COLOR: "1" };
    for (const k of ["HOME", "DENO_DIR", "TMPDIR"]) {
      const v = Deno.env.get(k);
      if (v !== undefined) env[k] = v;
    }
    if (ci) env.CI = "true";
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["test", "--allow-all", "--no-check", file],
      cwd: dir,
      clearEnv: true,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("gated: under CI=true a missing tool fails the test with a one-line reason", async () => {
  const r = await runGated(true);
  assert.notEqual(r.code, 0, r.out);
  assert.match(r.out, /Cannot run under CI: tshark: no tshark \(install tshark\)/);
  assert.match(r.out, /FAILED \| 0 passed \| 1 failed/);
});

Deno.test("gated: outside CI a missing tool ignores the test and says why", async () => {
  const r = await runGated(false);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /^ignoring tests that need tshark: no tshark \(install tshark\)$/m);
  assert.match(r.out, /ok \| 0 passed \| 0 failed \| 1 ignored/);
});
