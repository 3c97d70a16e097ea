import assert from "node:assert/strict";
import { MILLISECOND } from "../../stack/clock.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import type { SwitchPortOptions } from "./switch.ts";
import type { LinkEnd } from "./link.ts";
import { VirtualNetwork } from "./network.ts";

interface Delivery {
  at: number;
  to: number;
  from: number;
}

/** Port i made with `ports[i]`; every port broadcasts one frame (its index in byte 14) at 0. */
function floodAll(ports: readonly SwitchPortOptions[]) {
  const net = new VirtualNetwork({ seed: 3 });
  const sw = net.switch();
  const log: Delivery[] = [];
  const ends: LinkEnd[] = ports.map((options, to) => {
    const end = sw.port(options);
    end.attach({
      pool: net.pool,
      ifindex: to,
      now: () => net.now(),
      receive(pkt: PacketBuffer) {
        log.push({ at: net.now(), to, from: pkt.data[14]! });
        pkt.release();
      },
    });
    return end;
  });
  ends.forEach((end, i) => {
    const p = net.pool.alloc(60);
    p.data.fill(0);
    p.data.fill(0xff, 0, 6);
    p.data.set(end.mac!, 6);
    p.data[14] = i;
    end.transmit(p);
  });
  return { net, sw, ends, log };
}

Deno.test("floods queued as one entry each still deliver by time, then port, then the order flooded", () => {
  const one = { faults: { delay: MILLISECOND } };
  // Port 2 jitters and port 4 duplicates toward the host (neither can join a
  // group); port 6 has no delay (its copies are due at once).
  const faults: SwitchPortOptions[] = [
    one,
    one,
    { directions: { "a->b": { delay: MILLISECOND }, "b->a": { delay: MILLISECOND, jitter: 300 } } },
    one,
    {
      directions: { "a->b": { delay: MILLISECOND }, "b->a": { delay: MILLISECOND, duplicate: 1 } },
    },
    one,
    { faults: { delay: 0 } },
    one,
  ];
  const { net, log, sw } = floodAll(faults);
  // Every port's frame reaches the switch and is flooded out of the 7 others.
  assert.equal(net.pending, faults.length);
  net.runFor(MILLISECOND + 1); // the floods are in flight (zero-delay port 6 already has its copies)
  const inFlight = net.pending;
  net.runFor(10 * MILLISECOND);
  assert.equal(sw.stats().flooded, faults.length);
  // Port 4 duplicates each copy: 7 more deliveries.
  assert.equal(log.length, faults.length * (faults.length - 1) + 7);
  assert.equal(inFlight + log.filter((d) => d.at <= MILLISECOND + 1).length, log.length);
  // The canonical order: time, then link direction (port order), then the
  // order the switch flooded (the order frames reached it: by port).
  const sorted = [...log].sort((x, y) => x.at - y.at || x.to - y.to || x.from - y.from);
  assert.deepEqual(log, sorted);
  assert.equal(net.pool.outstanding, 0);
});

Deno.test("close() with floods in flight releases the shared buffer and counts every copy as detached", () => {
  const ports = 6;
  const faults = Array.from({ length: ports }, () => ({ faults: { delay: MILLISECOND } }));
  const { net, ends, log } = floodAll(faults);
  net.runFor(MILLISECOND + 1);
  assert.equal(net.pending, ports * (ports - 1));
  net.close();
  assert.equal(net.pending, 0);
  assert.equal(log.length, 0);
  assert.equal(net.pool.outstanding, 0);
  let detached = 0;
  for (const end of ends) detached += end.link.stats("b->a").dropped.detached;
  assert.equal(detached, ports * (ports - 1));
});
