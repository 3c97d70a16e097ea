import assert from "node:assert/strict";
import { bridgeToDevice, VirtualNetwork } from "./mod.ts";
import { LINKTYPE_ETHERNET, LINKTYPE_RAW } from "../../stack/driver.ts";
import type { DriverPort, LinkDriver } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import { MILLISECOND } from "../../stack/clock.ts";

function fakeDevice(mtu = 1450, linkType = LINKTYPE_ETHERNET) {
  const d = {
    linkType,
    mtu,
    port: undefined as DriverPort | undefined,
    sent: [] as number[][],
    closed: false,
    attach(p: DriverPort) {
      d.port = p;
    },
    transmit(p: PacketBuffer) {
      d.sent.push([...p.data]);
      p.release();
    },
    close() {
      d.closed = true;
    },
  };
  return d satisfies LinkDriver;
}

Deno.test("bridgeToDevice() delivers a device's frame to the right switch port, learned both ways", () => {
  const net = new VirtualNetwork({ seed: 1 });
  const sw = net.switch();
  const dev = fakeDevice();
  const bridge = bridgeToDevice(net, sw.port({ mtu: 1450 }), dev);
  const host = sw.port({ mac: new Uint8Array([2, 0, 0, 0, 0, 0x11]) });
  const got: number[][] = [];
  host.attach({
    pool: net.pool,
    ifindex: 1,
    now: () => net.now(),
    receive(p) {
      got.push([...p.data.subarray(0, 12)]);
      p.release();
    },
  });
  const f = net.pool.alloc(60);
  f.data.set([2, 0, 0, 0, 0, 0x11, 2, 0, 0, 0, 0, 0x99]);
  dev.port!.receive(f);
  net.runFor(MILLISECOND);
  assert.deepEqual(got, [[2, 0, 0, 0, 0, 0x11, 2, 0, 0, 0, 0, 0x99]]);
  assert.equal(bridge.stats.fromDevice, 1);
  // The switch learned 02:..:99 behind the bridge port: a reply goes there only.
  const r = net.pool.alloc(60);
  r.data.set([2, 0, 0, 0, 0, 0x99, 2, 0, 0, 0, 0, 0x11]);
  host.transmit(r);
  net.runFor(MILLISECOND);
  assert.equal(dev.sent.length, 1);
  assert.equal(bridge.stats.toDevice, 1);
  bridge.close();
  assert.ok(dev.closed);
  assert.equal(net.pool.outstanding, 0);
});

Deno.test("bridgeToDevice() refuses a port MTU above the device's, and non-Ethernet sides", () => {
  const net = new VirtualNetwork({ seed: 1 });
  const sw = net.switch();
  assert.throws(() => bridgeToDevice(net, sw.port({ mtu: 1500 }), fakeDevice(1450)), RangeError);
  assert.throws(
    () => bridgeToDevice(net, sw.port({ mtu: 1450 }), fakeDevice(1450, LINKTYPE_RAW)),
    TypeError,
  );
});
