/**
 * Regenerates `hashes.json`: runs every scenario in its own process and
 * stores the SHA-256 of its capture. Existing `why` notes are kept; give a
 * new one for the scenarios whose hash changed with `--why "..."` (required
 * when any hash changes). See README.md: a changed hash is a deliberate act,
 * and the commit message must say why the bytes changed.
 *
 *     deno run -A tests/determinism/update.ts --why "tcp: initial window 10 (RFC 6928)"
 *
 * @module
 */
// deno-lint-ignore-file no-console -- a command-line tool
import { parseArgs } from "node:util";
import { HASHES, scenarioHash, type StoredHash } from "./_run.ts";
import { SCENARIOS } from "./_scenarios.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { why: { type: "string" } },
  strict: true,
});
let stored: Record<string, StoredHash> = {};
try {
  stored = JSON.parse(Deno.readTextFileSync(HASHES));
} catch (e) {
  if (!(e instanceof Deno.errors.NotFound)) throw e;
}
const next: Record<string, StoredHash> = {};
const changed: string[] = [];
for (const name of Object.keys(SCENARIOS)) {
  const [a, b] = await Promise.all([scenarioHash(name), scenarioHash(name)]);
  if (a.sha256 !== b.sha256) {
    throw new Error(`Scenario ${name} is not deterministic: ${a.sha256} then ${b.sha256}`);
  }
  const old = stored[name];
  if (old?.sha256 === a.sha256) {
    next[name] = old;
    continue;
  }
  changed.push(name);
  if (values.why === undefined) {
    console.error(`${name}: ${old?.sha256 ?? "(new)"} -> ${a.sha256} (${a.bytes} bytes)`);
    continue;
  }
  next[name] = { sha256: a.sha256, why: values.why };
}
if (changed.length > 0 && values.why === undefined) {
  console.error(`Changed: ${changed.join(", ")}. Rerun with --why "..." to store the new hashes.`);
  Deno.exit(1);
}
Deno.writeTextFileSync(HASHES, JSON.stringify(next, null, 2) + "\n");
console.log(changed.length === 0 ? "no hash changed" : `updated: ${changed.join(", ")}`);
