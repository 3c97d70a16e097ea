import assert from "node:assert/strict";
import { openTun, randomMac, txQueueForWindow } from "./tun.ts";
import { SeededRng } from "../../stack/rng.ts";

// Options are checked before libc is loaded, so these run without --allow-ffi or root.

Deno.test("openTun() rejects an unknown mode", () => {
  // @ts-expect-error: testing a bad value from JavaScript
  assert.throws(() => openTun({ mode: "tunnel" }), TypeError);
});

Deno.test("openTun() rejects an MTU outside 68..65535", () => {
  for (const mtu of [67, 65536, 1500.5, NaN]) {
    assert.throws(() => openTun({ mtu }), RangeError, String(mtu));
  }
});

Deno.test("openTun() rejects a MAC on a TUN device, and a multicast or short MAC on TAP", () => {
  assert.throws(() => openTun({ mode: "tun", mac: randomMac() }), /needs mode "tap"/);
  assert.throws(() => openTun({ mode: "tap", mac: new Uint8Array([1, 0, 0, 0, 0, 1]) }), /unicast/);
  assert.throws(() => openTun({ mode: "tap", mac: new Uint8Array(5) }), /6 bytes/);
});

Deno.test("openTun() rejects a bad name, batch, batchBytes or poll timeout", () => {
  assert.throws(() => openTun({ name: "way-too-long-name0" }), TypeError);
  assert.throws(() => openTun({ batch: 0 }), RangeError);
  assert.throws(() => openTun({ batch: 5000 }), RangeError);
  assert.throws(() => openTun({ pollTimeout: 0 }), RangeError);
  for (const batchBytes of [0, 2 ** 30 + 1, 1.5]) {
    assert.throws(() => openTun({ batchBytes }), RangeError, String(batchBytes));
  }
});

Deno.test("openTun() rejects a txQueueLength outside 1..65536", () => {
  for (const txQueueLength of [0, 65537, 1.5, NaN]) {
    assert.throws(() => openTun({ txQueueLength }), RangeError, String(txQueueLength));
  }
});

Deno.test("txQueueForWindow() counts a window's full segments, never below Linux's 500", () => {
  assert.equal(txQueueForWindow(6_291_456, 1500), 4310);
  assert.equal(txQueueForWindow(6_291_456, 9000), 703);
  assert.equal(txQueueForWindow(1460 * 4309, 1500), 4309); // exactly full: no extra frame
  assert.equal(txQueueForWindow(6_291_456, 65535), 500);
  assert.equal(txQueueForWindow(0, 1500), 500);
  assert.equal(txQueueForWindow(1 << 30, 68), 65536); // capped
  assert.throws(() => txQueueForWindow(6_291_456, 67), RangeError);
  assert.throws(() => txQueueForWindow(NaN, 1500), RangeError);
});

Deno.test("openTun() rejects an unknown wait and a blockMax that is not a whole number in 1..1000", () => {
  // @ts-expect-error: testing a bad value from JavaScript
  assert.throws(() => openTun({ wait: "spin" }), TypeError);
  for (const blockMax of [1.5, NaN]) {
    assert.throws(() => openTun({ wait: "block", blockMax }), TypeError, String(blockMax));
  }
  // @ts-expect-error: testing a bad value from JavaScript
  assert.throws(() => openTun({ wait: "block", blockMax: "5" }), TypeError);
  for (const blockMax of [0, 1001]) {
    assert.throws(() => openTun({ wait: "block", blockMax }), RangeError, String(blockMax));
  }
});

Deno.test("randomMac() is unicast and locally administered, and seeded by the rng given", () => {
  for (let i = 0; i < 64; i++) {
    const mac = randomMac();
    assert.equal(mac.length, 6);
    assert.equal(mac[0]! & 0x03, 0x02);
  }
  assert.deepEqual(randomMac(new SeededRng(9)), randomMac(new SeededRng(9)));
});
