/**
 * A project that imports `mod.ts` by URL has no `deno.json` of ours, so its
 * type check runs with Deno's default compiler options, not the repository's
 * stricter set (`noUncheckedIndexedAccess`, `exactOptionalPropertyTypes`, …).
 * `deno test` and `deno check` type-check everything imported: code that
 * type-checks only under our options breaks every user's tests. This checks
 * `mod.ts`, the services, the example plugins and `cli.ts` from an empty
 * temporary folder, as such a user would.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const ENTRY_POINTS = [
  "mod.ts",
  "plugins/services/mod.ts",
  "plugins/hello_ether/mod.ts",
  "plugins/block_source/mod.ts",
  "plugins/drop_port/mod.ts",
  "plugins/udp_hello/mod.ts",
  "plugins/reverse_lines/mod.ts",
  "examples/json_service.ts",
  "cli.ts",
];

Deno.test("mod.ts and its companions type-check by URL with Deno's default compiler options", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netstack_outside_" });
  try {
    const imports = ENTRY_POINTS.map((p) => `import ${JSON.stringify(new URL(p, ROOT).href)};\n`);
    await Deno.writeTextFile(`${dir}/main.ts`, imports.join(""));
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "main.ts"],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(240_000),
    }).output();
    const err = new TextDecoder().decode(r.stderr);
    assert.equal(r.code, 0, `deno check from ${dir} failed:\n${err.slice(0, 4000)}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
