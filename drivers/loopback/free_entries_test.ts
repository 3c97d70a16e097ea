/**
 * The network's free list of delivered frame entries (`_wire.ts`) is
 * bounded in real bytes: 10,000 frames in flight at once, all delivered,
 * leave at most `FREE_ENTRIES_MAX_BYTES` of entries kept for reuse.
 */
import assert from "node:assert/strict";
import { LINKTYPE_RAW } from "../../stack/driver.ts";
import { VirtualNetwork } from "./network.ts";
import { TestEndpoint } from "./_test_node.ts";
import { FREE_ENTRIES_MAX_BYTES, FREE_ENTRY_BYTES, wireOf } from "./_wire.ts";

Deno.test("loopback: 10,000 frames in flight at once leave at most FREE_ENTRIES_MAX_BYTES of free entries", () => {
  const net = new VirtualNetwork({ seed: 1 });
  const link = net.link({ linkType: LINKTYPE_RAW, faults: { delay: 1_000 } });
  const a = new TestEndpoint(net, link.a);
  const b = new TestEndpoint(net, link.b);
  const wire = wireOf.get(net)!;
  assert.equal(wire.freeEntryBytes, 0);
  for (let i = 0; i < 10_000; i++) a.sendAt(0, new Uint8Array(64));
  assert.ok(net.runUntilIdle());
  assert.equal(b.received.length, 10_000);
  assert.ok(wire.freeEntryBytes <= FREE_ENTRIES_MAX_BYTES, `${wire.freeEntryBytes} B kept`);
  assert.equal(
    wire.freeEntryBytes,
    Math.floor(FREE_ENTRIES_MAX_BYTES / FREE_ENTRY_BYTES) * FREE_ENTRY_BYTES,
  );
  // The entries are reused: another burst as large keeps the same.
  for (let i = 0; i < 10_000; i++) a.sendAt(net.now(), new Uint8Array(64));
  assert.ok(net.runUntilIdle());
  assert.equal(b.received.length, 20_000);
  assert.equal(
    wire.freeEntryBytes,
    Math.floor(FREE_ENTRIES_MAX_BYTES / FREE_ENTRY_BYTES) * FREE_ENTRY_BYTES,
  );
  assert.equal(a.pool.outstanding + b.pool.outstanding + net.pool.outstanding, 0);
});
