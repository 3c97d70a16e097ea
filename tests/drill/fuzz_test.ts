/**
 * The runner never throws on what a script says: every repository script,
 * cut short or with bytes changed (seeded), parses or is "not run", runs or
 * fails, and never brings the runner down.
 */
import assert from "node:assert/strict";
import { runScript } from "../../drill/mod.ts";
import { scriptFiles } from "./_drill.ts";

const dir = new URL("./scripts/", import.meta.url).pathname;
const ALPHABET = "0123456789.:+-<>()[]{},=*~`%SFRPW .acknowinmssTSvalecr\n|/x";

Deno.test("drill runScript() survives damaged scripts (seeded mutations and truncations)", () => {
  let seed = 0x2545f491;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  let runs = 0;
  const files = scriptFiles(dir);
  for (const file of files) {
    const text = Deno.readTextFileSync(file);
    for (let k = 0; k < 8; k++) {
      const chars = [...text];
      if (k === 0) chars.length = rand(chars.length); // cut short
      else {
        for (let m = 0; m < 1 + rand(6); m++) {
          chars[rand(chars.length)] = ALPHABET[rand(ALPHABET.length)]!;
        }
      }
      const r = runScript(chars.join(""));
      assert.ok(["passed", "failed", "not run"].includes(r.status));
      assert.ok(!(r.message ?? "").startsWith("runner error"), `${file} #${k}: ${r.message}`);
      runs++;
    }
  }
  assert.equal(runs, files.length * 8);
});
