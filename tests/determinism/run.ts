/**
 * Runs one scenario of `_scenarios.ts` and writes its capture bytes to a
 * file: `deno run --allow-read --allow-write tests/determinism/run.ts NAME OUT`.
 * The determinism test runs this in fresh processes and hashes the file.
 *
 * @module
 */
import { SCENARIOS } from "./_scenarios.ts";

const [name, out] = Deno.args;
const scenario = name === undefined ? undefined : SCENARIOS[name];
if (scenario === undefined || out === undefined) {
  throw new TypeError(
    `Usage: run.ts NAME OUT, where NAME is one of ${Object.keys(SCENARIOS).join(", ")}`,
  );
}
Deno.writeFileSync(out, await scenario());
