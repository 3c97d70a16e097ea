import assert from "node:assert/strict";
import { createStack, VirtualNetwork } from "../../mod.ts";
import type { ArpService, NdpService } from "../_services_link.ts";
import { IpAddress } from "../wire/ip_address.ts";

const ACTION = "Cannot add static neighbour";

/** A bad value of one argument and the error it alone gives. */
interface Bad {
  readonly value: unknown;
  readonly error: typeof TypeError | typeof RangeError;
  readonly message: string;
}

const BAD_IFINDEX: Bad[] = [
  { value: 1.5, error: TypeError, message: `${ACTION}: ifindex 1.5 is not an integer` },
  { value: "0", error: TypeError, message: `${ACTION}: ifindex "0" is not an integer` },
  { value: -1, error: RangeError, message: `${ACTION}: ifindex -1 is not in 0..2147483647` },
  { value: 99, error: RangeError, message: `${ACTION}: no interface 99` },
];
const BAD_MAC: Bad[] = [
  {
    value: [2, 0, 0, 0, 0, 9],
    error: TypeError,
    message: `${ACTION}: the MAC is not a Uint8Array`,
  },
  { value: new Uint8Array(3), error: RangeError, message: `${ACTION}: the MAC has 3 bytes, not 6` },
  {
    value: new Uint8Array([1, 0, 0, 0, 0, 9]),
    error: RangeError,
    message: `${ACTION}: the MAC is a group (multicast or broadcast) address`,
  },
];

/** One family's `addStatic`, good arguments, and its bad addresses. */
interface Family {
  readonly name: string;
  readonly add: (ifindex: unknown, address: unknown, mac: unknown) => void;
  readonly good: readonly [number, unknown, Uint8Array];
  readonly badAddress: Bad[];
  readonly entries: () => number;
}

function families(): { families: Family[]; close: () => void } {
  const net = new VirtualNetwork({ seed: 1 });
  const stack = createStack({ seed: 1 });
  const eth = stack.addInterface({
    name: "eth0",
    driver: net.link().a,
    addresses: ["10.0.0.1/24"],
  });
  const arp = stack.service<ArpService>("neighbor.ipv4")!;
  const ndp = stack.service<NdpService>("neighbor.ipv6")!;
  const mac = new Uint8Array([2, 0, 0, 0, 0, 9]);
  const entries = (family: 4 | 6) => () =>
    stack.neighbors().filter((n) =>
      n.state === "PERMANENT" && (n.address.includes(":") === (family === 6))
    )
      .length;
  return {
    families: [
      {
        name: "arp",
        add: (i, a, m) => arp.addStatic(i as number, a as number, m as Uint8Array),
        good: [eth.index, 0x0a000009, mac],
        badAddress: [
          { value: "10.0.0.9", error: TypeError, message: `${ACTION}: the address is not IPv4` },
          {
            value: 2 ** 32,
            error: RangeError,
            message: `${ACTION}: address 4294967296 is not in 0..4294967295`,
          },
          {
            value: 0xe0000001,
            error: RangeError,
            message: `${ACTION}: 224.0.0.1 is not a unicast address`,
          },
        ],
        entries: entries(4),
      },
      {
        name: "ndp",
        add: (i, a, m) => ndp.addStatic(i as number, a as string, m as Uint8Array),
        good: [eth.index, IpAddress.parse("fd00::9")!.key, mac],
        badAddress: [
          { value: 0x0a000009, error: TypeError, message: `${ACTION}: the address is not IPv6` },
          {
            value: IpAddress.parse("ff02::1")!.key,
            error: RangeError,
            message: `${ACTION}: ff02::1 is not a unicast address`,
          },
          {
            value: IpAddress.parse("::")!.key,
            error: RangeError,
            message: `${ACTION}: :: is not a unicast address`,
          },
        ],
        entries: entries(6),
      },
    ],
    close: () => {
      stack.close();
      net.close();
    },
  };
}

/** The error `fn` throws, as `Class: message`. */
function errorOf(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
  return "nothing thrown";
}

const shown = (b: Bad) => `${b.error.name}: ${b.message}`;

Deno.test("addStatic (ARP and NDP): each bad argument alone gives its own error, the same wording in both, and adds nothing", () => {
  const { families: all, close } = families();
  for (const f of all) {
    const [ifindex, address, mac] = f.good;
    for (const b of BAD_IFINDEX) {
      assert.equal(errorOf(() => f.add(b.value, address, mac)), shown(b), `${f.name} ifindex`);
    }
    for (const b of f.badAddress) {
      assert.equal(errorOf(() => f.add(ifindex, b.value, mac)), shown(b), `${f.name} address`);
    }
    for (const b of BAD_MAC) {
      assert.equal(errorOf(() => f.add(ifindex, address, b.value)), shown(b), `${f.name} MAC`);
    }
    assert.equal(f.entries(), 0, f.name);
    f.add(ifindex, address, mac);
    assert.equal(f.entries(), 1, f.name);
  }
  close();
});

Deno.test("addStatic (ARP and NDP): with two or three bad arguments the first in order wins: interface, then address, then MAC", () => {
  const { families: all, close } = families();
  for (const f of all) {
    const [ifindex, address, mac] = f.good;
    for (const bi of BAD_IFINDEX) {
      for (const ba of f.badAddress) {
        assert.equal(errorOf(() => f.add(bi.value, ba.value, mac)), shown(bi), f.name);
        for (const bm of BAD_MAC) {
          assert.equal(errorOf(() => f.add(bi.value, ba.value, bm.value)), shown(bi), f.name);
        }
      }
      for (const bm of BAD_MAC) {
        assert.equal(errorOf(() => f.add(bi.value, address, bm.value)), shown(bi), f.name);
      }
    }
    for (const ba of f.badAddress) {
      for (const bm of BAD_MAC) {
        assert.equal(errorOf(() => f.add(ifindex, ba.value, bm.value)), shown(ba), f.name);
      }
    }
    assert.equal(f.entries(), 0, f.name);
  }
  close();
});
