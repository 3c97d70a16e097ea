/**
 * Cross-process determinism: each named scenario (`_scenarios.ts`) runs in
 * two fresh `deno run` processes at once; both must write byte-identical
 * captures, whose SHA-256 must equal the one stored in `hashes.json`. A
 * change of behaviour that changes the bytes fails here until the hash is
 * regenerated on purpose (see README.md).
 *
 * @module
 */
import assert from "node:assert/strict";
import { HASHES, scenarioHash, type StoredHash } from "./_run.ts";
import { SCENARIOS } from "./_scenarios.ts";

const STORED = JSON.parse(Deno.readTextFileSync(HASHES)) as Record<string, StoredHash>;

Deno.test("determinism: hashes.json has exactly one entry, with a why, per scenario", () => {
  assert.deepEqual(Object.keys(STORED).sort(), Object.keys(SCENARIOS).sort());
  for (const [name, h] of Object.entries(STORED)) {
    assert.match(h.sha256, /^[0-9a-f]{64}$/, name);
    assert.ok(h.why.trim().length > 0, `${name}: no why`);
  }
});

for (const name of Object.keys(SCENARIOS)) {
  Deno.test(`determinism: ${name} writes the same bytes in two processes, matching hashes.json`, async () => {
    const [a, b] = await Promise.all([scenarioHash(name), scenarioHash(name)]);
    assert.ok(a.bytes > 24, `${name}: an empty capture`);
    assert.equal(b.sha256, a.sha256, `${name}: two processes wrote different bytes`);
    assert.equal(
      a.sha256,
      STORED[name]?.sha256,
      `${name}: the capture changed (${a.bytes} bytes). If that is intended, run ` +
        "`deno run -A tests/determinism/update.ts --why ...` and say why in the commit",
    );
  });
}
