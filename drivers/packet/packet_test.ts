import assert from "node:assert/strict";
import { openPacket, type PacketOptions } from "./packet.ts";

// Options are checked before libc is loaded or anything is opened, so these
// run anywhere, without --allow-ffi.
const BAD: [string, PacketOptions, ErrorConstructor][] = [
  ["no ifname", {} as PacketOptions, TypeError],
  ["an empty ifname", { ifname: "" }, TypeError],
  ["an ifname of 16 bytes", { ifname: "a".repeat(16) }, TypeError],
  ["an ifname with a slash", { ifname: "a/b" }, TypeError],
  ["a 5-byte MAC", { ifname: "veth0", mac: new Uint8Array(5) }, TypeError],
  ["a multicast MAC", { ifname: "veth0", mac: new Uint8Array([1, 0, 0, 0, 0, 1]) }, TypeError],
  ["batch 0", { ifname: "veth0", batch: 0 }, RangeError],
  ["pollTimeout 0", { ifname: "veth0", pollTimeout: 0 }, RangeError],
  ["rcvbuf 1000", { ifname: "veth0", rcvbuf: 1000 }, RangeError],
  ["a namespace with a slash", { ifname: "veth0", netns: "../x" }, TypeError],
];

for (const [what, options, type] of BAD) {
  Deno.test(`openPacket() rejects ${what} before opening anything`, () => {
    assert.throws(() => openPacket(options), type);
  });
}
