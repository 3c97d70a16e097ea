/**
 * Issue 16: the memory budget stated in the README ("Memory under hostile
 * traffic"). `_memory_probe.ts`, in a subprocess with a GC it can call,
 * drives each bounded store of a default stack to its cap (ARP pending
 * queues and cache, reassembly, UDP receive queues, a SYN flood on a
 * listener) and reports the heap plus external memory each phase added
 * after a full GC. The whole must stay within {@linkcode BUDGET}.
 *
 * @module
 */
import assert from "node:assert/strict";

const MIB = 1024 * 1024;
/** The README's figure for a default stack with one listener. */
const BUDGET = 48 * MIB;

Deno.test({
  name: "memory budget: every bounded store at its cap stays within 48 MiB (heap + external)",
  async fn() {
    const probe = new URL("./_memory_probe.ts", import.meta.url);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--no-check", "--v8-flags=--expose-gc", probe.pathname],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const r = JSON.parse(new TextDecoder().decode(out.stdout)) as Record<string, number>;
    const report = JSON.stringify(r);
    // Each store reached its cap (the probe drove it there) and no further.
    assert.equal(r.arpQueued, MIB / 2048, report); // 1 MiB of 2 KiB buffers
    assert.equal(r.arpEntries, 4096, report);
    assert.equal(r.embryos, 256, report); // synBacklog; the rest got SYN cookies
    assert.ok(r.reassembly! <= 4 * MIB * 1.1, report); // reassemblyMaxBytes
    // UDP: 16 MiB of queued buffers, plus the sockets themselves.
    assert.ok(r.udp! <= 16 * MIB + 6 * MIB, report);
    assert.ok(r.total! <= BUDGET, `${(r.total! / MIB).toFixed(1)} MiB held: ${report}`);
  },
});
