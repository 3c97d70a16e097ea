import assert from "node:assert/strict";
import { ByteRing } from "./buffer.ts";
import type { TcpEndpoint } from "./endpoint.ts";
import { type RcvAutotune, rcvSpaceAdjust, rcvWindowTarget } from "./rcv_autotune.ts";

Deno.test("rcvWindowTarget: Linux's tcp_rcv_space_adjust rule", () => {
  // A steady drain: twice the bytes per RTT plus 16 segments.
  assert.equal(rcvWindowTarget(100_000, 100_000, 1460), 2 * 100_000 + 16 * 1460);
  // A drain that doubled: the window extrapolates the growth twice over.
  const win = 2 * 200_000 + 16 * 1460;
  assert.equal(rcvWindowTarget(200_000, 100_000, 1460), win + 2 * win);
});

/** The fields rcvSpaceAdjust reads, with a settable clock. */
function fakeEndpoint(receiveBuffer: number, receiveBufferMax: number, rcvWscale = 7) {
  let now = 0;
  const mem = { underPressure: false };
  const ep = {
    rcvBuf: new ByteRing(receiveBuffer),
    rcvTune: null as RcvAutotune | null,
    rcvAdv: 0,
    rcvNxt: 0,
    bytesReceived: 0,
    advMss: 1460,
    srtt: 0,
    rcvWscale,
    core: {
      cfg: { receiveBuffer, receiveBufferMax },
      mem,
      now: () => now,
    },
  };
  /** `n` bytes arrive and the application reads them all at time `t` µs. */
  const deliver = (n: number, t: number) => {
    now = t;
    for (let left = n; left > 0;) {
      const k = Math.min(left, ep.rcvBuf.free);
      ep.rcvBuf.write(new Uint8Array(k));
      ep.bytesReceived += k;
      ep.rcvBuf.read(new Uint8Array(k));
      left -= k;
    }
    rcvSpaceAdjust(ep as unknown as TcpEndpoint);
  };
  return { ep, deliver, mem, setRtt: (us: number) => ep.rcvTune!.rtt8 = us * 8 };
}

Deno.test("rcvSpaceAdjust: grows once per measured RTT with the drain, up to the limit, never shrinks", () => {
  const { ep, deliver, setRtt } = fakeEndpoint(262_144, 6 << 20);
  deliver(1000, 0); // the first read starts the first measurement
  assert.equal(ep.rcvBuf.max, 262_144);
  assert.ok(ep.rcvTune !== null);
  // No RTT estimate yet: nothing grows however much is read.
  deliver(500_000, 100_000);
  assert.equal(ep.rcvBuf.max, 262_144);
  setRtt(200_000);
  // Less than an RTT since the measurement began (at 0): no decision yet.
  deliver(10_000, 150_000);
  assert.equal(ep.rcvBuf.max, 262_144);
  // One RTT after it began: 510 KB read against 14,600 expected → grows (capped at 6 MiB).
  deliver(0, 200_000);
  assert.equal(ep.rcvBuf.max, 6 << 20);
  // A slower drain later never shrinks the buffer.
  deliver(1000, 400_000);
  assert.equal(ep.rcvBuf.max, 6 << 20);
});

Deno.test("rcvSpaceAdjust: a moderate drain asks for 2× per RTT plus 16 segments; off when the max is not above the buffer", () => {
  const { ep, deliver, setRtt } = fakeEndpoint(65_536, 6 << 20);
  deliver(1, 0);
  setRtt(10_000);
  deliver(14_600, 10_000); // exactly the initial 10 segments: no growth
  assert.equal(ep.rcvBuf.max, 65_536);
  deliver(29_200, 20_000); // doubled
  assert.equal(ep.rcvBuf.max, rcvWindowTarget(29_200, 14_600, 1460));
  // The window field's limit without a large scale caps the buffer.
  const small = fakeEndpoint(65_536, 6 << 20, 2);
  small.deliver(1, 0);
  small.setRtt(10_000);
  small.deliver(1 << 20, 10_000);
  assert.equal(small.ep.rcvBuf.max, 65535 * 4);
  // receiveBufferMax ≤ receiveBuffer: no state, no growth.
  const off = fakeEndpoint(262_144, 262_144);
  off.deliver(1 << 20, 0);
  off.deliver(1 << 20, 1_000_000);
  assert.equal(off.ep.rcvTune, null);
  assert.equal(off.ep.rcvBuf.max, 262_144);
});

Deno.test("rcvSpaceAdjust: under memory pressure the buffer does not grow; it does again once pressure ends", () => {
  const { ep, deliver, mem, setRtt } = fakeEndpoint(65_536, 6 << 20);
  deliver(1, 0);
  setRtt(10_000);
  mem.underPressure = true;
  deliver(29_200, 10_000); // the drain doubled, but the stack is under pressure
  assert.equal(ep.rcvBuf.max, 65_536);
  mem.underPressure = false;
  deliver(58_400, 20_000); // doubled again: grows now
  assert.equal(ep.rcvBuf.max, rcvWindowTarget(58_400, 14_600, 1460));
});
