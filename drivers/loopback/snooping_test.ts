import assert from "node:assert/strict";
import { SECOND } from "../../stack/clock.ts";
import { SeededRng } from "../../stack/rng.ts";
import type { LinkEnd } from "./link.ts";
import { VirtualNetwork } from "./network.ts";
import type { SnoopingOptions } from "./snooping.ts";
import {
  groupBytes,
  igmpQueryFrame,
  ipv6At,
  mldQueryFrame,
  snoop as classify,
} from "./_snoop_wire.ts";
import { TestEndpoint } from "./_test_node.ts";
import {
  igmp,
  igmpQuery,
  igmpV12,
  igmpV3Report,
  ipv4Frame,
  mldFrame,
  mldQuery,
  mldV1,
  mldV2Report,
  udpV4,
  udpV6,
} from "./_snoop_test_frames.ts";

function setup(ports: number, snooping: boolean | SnoopingOptions = { querier: false }) {
  const net = new VirtualNetwork();
  const sw = net.switch({ snooping });
  const ends: LinkEnd[] = [];
  const hosts: TestEndpoint[] = [];
  for (let i = 0; i < ports; i++) {
    const end = sw.port();
    ends.push(end);
    hosts.push(new TestEndpoint(net, end, { ifindex: i }));
  }
  const snoop = sw.snooping!;
  /** Which hosts received something since the last call, and clear. */
  function who(): number[] {
    const out: number[] = [];
    hosts.forEach((h, i) => {
      if (h.received.length > 0) out.push(i);
      h.received.length = 0;
    });
    return out;
  }
  /** Sends `frame` from host `i` and runs the network for 1 ms; returns who got it. */
  function send(i: number, frame: Uint8Array): number[] {
    who();
    hosts[i]!.sendNow(frame);
    net.runFor(1_000);
    return who();
  }
  const mac = (i: number) => ends[i]!.mac!;
  return { net, sw, snoop, hosts, who, send, mac };
}

Deno.test("snooping is off by default: multicast data is flooded", () => {
  const net = new VirtualNetwork();
  const sw = net.switch();
  assert.equal(sw.snooping, undefined);
  const hosts = [0, 1, 2].map((i) => new TestEndpoint(net, sw.port(), { ifindex: i }));
  hosts[0]!.sendNow(udpV4(sw.ports[0]!.mac!, "10.0.0.1", "239.1.2.3", 1));
  net.runUntilIdle();
  assert.deepEqual(hosts.map((h) => h.received.length), [0, 1, 1]);
});

Deno.test("snooping forwards a group's data only to ports whose hosts joined (IGMPv2 report)", () => {
  const { snoop, send, mac } = setup(4);
  assert.deepEqual(
    send(1, ipv4Frame(mac(1), "10.0.0.2", "239.1.2.3", 2, igmpV12(0x16, "239.1.2.3"))),
    [],
  );
  assert.deepEqual(send(0, udpV4(mac(0), "10.0.0.1", "239.1.2.3", 7)), [1]);
  assert.deepEqual(snoop.groups(), [{ group: "239.1.2.3", ports: [1] }]);
  const st = snoop.stats();
  assert.equal(st.joins, 1);
  assert.equal(st.forwarded, 1);
  assert.equal(st.pruned, 2); // ports 2 and 3
});

Deno.test("snooping drops data of a group nobody joined when no router port exists", () => {
  const { snoop, send, mac } = setup(3);
  assert.deepEqual(send(0, udpV4(mac(0), "10.0.0.1", "239.9.9.9", 1)), []);
  assert.equal(snoop.stats().dropped, 1);
  assert.equal(snoop.stats().pruned, 2);
});

Deno.test("snooping floods 224.0.0.0/24, ff02::/16, broadcast and non-IP multicast", () => {
  const { send, mac } = setup(3);
  assert.deepEqual(send(0, udpV4(mac(0), "10.0.0.1", "224.0.0.251", 1)), [1, 2]);
  assert.deepEqual(send(0, udpV6(mac(0), "fe80::1", "ff02::fb", 1)), [1, 2]);
  const stp = new Uint8Array(60);
  stp.set([0x01, 0x80, 0xc2, 0, 0, 0, ...mac(0), 0, 38]);
  assert.deepEqual(send(0, stp), [1, 2]);
  const arp = new Uint8Array(60);
  arp.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...mac(0), 0x08, 0x06]);
  assert.deepEqual(send(0, arp), [1, 2]);
});

Deno.test("snooping sends reports only toward router ports, learned from queries", () => {
  const { snoop, send, mac } = setup(4);
  const report = ipv4Frame(mac(1), "10.0.0.2", "239.1.2.3", 2, igmpV12(0x16, "239.1.2.3"));
  assert.deepEqual(send(1, report), []); // no router yet: nobody else hears it
  // A router on port 3 queries (from a non-zero source): flooded, port 3 becomes a router port.
  assert.deepEqual(
    send(3, ipv4Frame(mac(3), "10.0.0.254", "224.0.0.1", 2, igmpQuery("0.0.0.0"))),
    [0, 1, 2],
  );
  assert.deepEqual(snoop.routerPorts(), [3]);
  assert.deepEqual(send(1, report), [3]);
  // The router gets every group's data; members get their group's.
  assert.deepEqual(send(0, udpV4(mac(0), "10.0.0.1", "239.1.2.3", 2)), [1, 3]);
  assert.deepEqual(send(0, udpV4(mac(0), "10.0.0.1", "239.7.7.7", 2)), [3]);
  assert.equal(snoop.stats().queriesHeard, 1);
});

Deno.test("snooping takes a query from 0.0.0.0 for another snooping querier, not a router", () => {
  const { snoop, send, mac } = setup(3);
  send(2, ipv4Frame(mac(2), "0.0.0.0", "224.0.0.1", 2, igmpQuery("0.0.0.0")));
  assert.deepEqual(snoop.routerPorts(), []);
});

Deno.test("snooping learns router ports from PIM hellos", () => {
  const { snoop, send, mac } = setup(3);
  assert.deepEqual(send(2, ipv4Frame(mac(2), "10.0.0.254", "224.0.0.13", 103, [0x20, 0, 0, 0])), [
    0,
    1,
  ]);
  assert.deepEqual(snoop.routerPorts(), [2]);
});

Deno.test("snooping reads IGMPv3 records: EXCLUDE and INCLUDE with sources join, INCLUDE {} leaves", () => {
  const { snoop, send, mac } = setup(4);
  const report = (records: [number, string, string[]][]) =>
    ipv4Frame(mac(1), "10.0.0.2", "224.0.0.22", 2, igmpV3Report(records));
  send(
    1,
    report([[4, "239.0.0.1", []], [1, "239.0.0.2", ["10.0.0.9"]], [6, "239.0.0.3", ["10.0.0.9"]]]),
  );
  assert.deepEqual(snoop.groups().map((g) => g.group), ["239.0.0.1", "239.0.0.2"]);
  send(1, report([[3, "239.0.0.1", []], [5, "239.0.0.4", ["10.0.0.8"]]]));
  assert.equal(snoop.stats().leaves, 1);
  assert.deepEqual(send(0, udpV4(mac(0), "10.0.0.1", "239.0.0.4", 1)), [1]);
});

Deno.test("snooping prunes a port 2 s after its last member leaves, with no querier", () => {
  const { snoop, send, mac, net } = setup(3);
  send(1, ipv4Frame(mac(1), "10.0.0.2", "239.1.2.3", 2, igmpV12(0x16, "239.1.2.3")));
  send(2, ipv4Frame(mac(2), "10.0.0.3", "239.1.2.3", 2, igmpV12(0x16, "239.1.2.3")));
  send(1, ipv4Frame(mac(1), "10.0.0.2", "224.0.0.2", 2, igmpV12(0x17, "239.1.2.3")));
  // Port 2's member is unaffected; port 1 keeps the group for the last member query time.
  assert.deepEqual(send(0, udpV4(mac(0), "10.0.0.1", "239.1.2.3", 1)), [1, 2]);
  net.runFor(2 * SECOND);
  assert.deepEqual(send(0, udpV4(mac(0), "10.0.0.1", "239.1.2.3", 2)), [2]);
  assert.deepEqual(snoop.groups(), [{ group: "239.1.2.3", ports: [2] }]);
});

Deno.test("snooping querier asks the leaving port and keeps it while a member answers", () => {
  const { snoop, hosts, send, mac, net } = setup(3, { querier: true });
  net.runFor(1_000);
  send(1, ipv4Frame(mac(1), "10.0.0.2", "239.1.2.3", 2, igmpV12(0x16, "239.1.2.3")));
  for (const h of hosts) h.received.length = 0;
  const sent = snoop.stats().queriesSent;
  hosts[1]!.sendNow(ipv4Frame(mac(1), "10.0.0.2", "224.0.0.2", 2, igmpV12(0x17, "239.1.2.3")));
  net.runFor(1_000);
  // A group-specific IGMP query went out of port 1 only, to the group itself.
  assert.equal(snoop.stats().queriesSent, sent + 1);
  assert.deepEqual(hosts.map((h) => h.received.length), [0, 1, 0]);
  const q = hosts[1]!.received[0]!.bytes;
  assert.deepEqual([...q.subarray(30, 34)], [239, 1, 2, 3]); // IP destination
  assert.deepEqual([q[38], ...q.subarray(42, 46)], [0x11, 239, 1, 2, 3]);
  // Another member behind port 1 answers: the port stays.
  send(1, ipv4Frame(mac(1), "10.0.0.5", "239.1.2.3", 2, igmpV12(0x16, "239.1.2.3")));
  net.runFor(5 * SECOND);
  assert.deepEqual(send(0, udpV4(mac(0), "10.0.0.1", "239.1.2.3", 1)), [1]);
  assert.equal(snoop.stats().queriesSent, sent + 1); // the answer cancelled the second query
});

Deno.test("snooping ages memberships out after the group membership interval", () => {
  const { snoop, send, mac, net } = setup(2, {
    querier: false,
    queryInterval: 10 * SECOND,
    queryResponseInterval: SECOND,
  });
  send(1, ipv4Frame(mac(1), "10.0.0.2", "239.1.2.3", 2, igmpV12(0x12, "239.1.2.3"))); // IGMPv1
  net.runFor(20 * SECOND); // GMI = 2 × 10 s + 1 s
  assert.deepEqual(send(0, udpV4(mac(0), "10.0.0.1", "239.1.2.3", 1)), [1]);
  net.runFor(1 * SECOND);
  assert.deepEqual(send(0, udpV4(mac(0), "10.0.0.1", "239.1.2.3", 1)), []);
  assert.deepEqual(snoop.groups(), []);
});

Deno.test("snooping learns MLDv1 and MLDv2 listeners and MLD done", () => {
  const { snoop, send, mac, net } = setup(4);
  send(1, mldFrame(mac(1), "fe80::1", "ff05::1:3", mldV1(131, "ff05::1:3")));
  send(
    2,
    mldFrame(
      mac(2),
      "fe80::2",
      "ff02::16",
      mldV2Report([[4, "ff05::1:3", []], [2, "ff0e::42", []], [4, "ff02::fb", []]]),
    ),
  );
  assert.deepEqual(snoop.groups(), [
    { group: "ff05::1:3", ports: [1, 2] },
    { group: "ff0e::42", ports: [2] },
  ]);
  assert.deepEqual(send(0, udpV6(mac(0), "2001:db8::1", "ff05::1:3", 1)), [1, 2]);
  assert.deepEqual(send(0, udpV6(mac(0), "2001:db8::1", "ff0e::42", 1)), [2]);
  send(1, mldFrame(mac(1), "fe80::1", "ff02::2", mldV1(132, "ff05::1:3")));
  net.runFor(2 * SECOND);
  assert.deepEqual(send(0, udpV6(mac(0), "2001:db8::1", "ff05::1:3", 1)), [2]);
  // An MLD query from a link-local router source makes a router port.
  send(3, mldFrame(mac(3), "fe80::fe", "ff02::1", mldQuery("::")));
  assert.deepEqual(snoop.routerPorts(), [3]);
});

Deno.test("snooping neither learns nor trusts IGMP/MLD with a bad checksum", () => {
  const { snoop, send, mac } = setup(3);
  const bad = igmpV12(0x16, "239.1.2.3");
  bad[2] = bad[2]! ^ 0xff;
  send(1, ipv4Frame(mac(1), "10.0.0.2", "239.1.2.3", 2, bad));
  const mld = mldFrame(mac(2), "fe80::2", "ff05::9", mldV1(131, "ff05::9"));
  mld[mld.length - 1] = mld[mld.length - 1]! ^ 1;
  send(2, mld);
  assert.deepEqual(snoop.groups(), []);
  assert.equal(snoop.stats().malformed, 2);
});

Deno.test("snooping group table is bounded and counts what it could not learn", () => {
  const { snoop, send, mac } = setup(2, { querier: false, maxGroups: 2 });
  for (const g of ["239.0.0.1", "239.0.0.2", "239.0.0.3"]) {
    send(1, ipv4Frame(mac(1), "10.0.0.2", g, 2, igmpV12(0x16, g)));
  }
  assert.equal(snoop.groups().length, 2);
  assert.equal(snoop.stats().tableFull, 1);
});

Deno.test("snooping querier sends IGMPv3 and MLDv2 general queries at startup and every query interval", () => {
  const { snoop, hosts, net } = setup(2, {
    queryInterval: 20 * SECOND,
    queryResponseInterval: SECOND,
  });
  assert.equal(snoop.querying, true);
  const times = () => hosts[0]!.received.map((r) => r.at / SECOND);
  net.runFor(50 * SECOND);
  // Startup: robustness (2) queries a quarter interval apart, then every interval.
  assert.deepEqual(times(), [0, 0, 5, 5, 25, 25, 45, 45]);
  const [q4, q6] = [hosts[0]!.received[0]!.bytes, hosts[0]!.received[1]!.bytes];
  assert.deepEqual(classify(q4), { kind: "query", group: "", fromRouter: false });
  assert.deepEqual(classify(q6), { kind: "query", group: "", fromRouter: true });
  assert.equal(snoop.stats().queriesSent, 8);
});

Deno.test("snooping querier goes quiet while a router queries, and resumes after it is gone", () => {
  const { snoop, hosts, send, mac, net } = setup(3, {
    queryInterval: 20 * SECOND,
    queryResponseInterval: 2 * SECOND,
  });
  net.runFor(6 * SECOND); // startup queries at 0 and 5 s
  send(2, ipv4Frame(mac(2), "10.0.0.254", "224.0.0.1", 2, igmpQuery("0.0.0.0")));
  assert.equal(snoop.querying, false);
  const before = snoop.stats().queriesSent;
  net.runFor(40 * SECOND); // other querier present interval: 2 × 20 s + 1 s
  assert.equal(snoop.stats().queriesSent, before);
  assert.deepEqual(snoop.routerPorts(), [2]);
  net.runFor(1 * SECOND);
  assert.equal(snoop.querying, true);
  assert.equal(snoop.stats().queriesSent, before + 2);
  assert.deepEqual(snoop.routerPorts(), []);
  // The router was heard at 6.000 s: silent until 6 + 41 s.
  assert.equal(hosts[0]!.received.at(-1)!.at, 47 * SECOND);
});

Deno.test("snooping query frames carry valid checksums and the configured timers", () => {
  const mac = new Uint8Array([2, 0, 0, 0, 0, 9]);
  const fields = { maxResponseMs: 10_000, robustness: 2, intervalSeconds: 125 };
  const q4 = igmpQueryFrame(mac, undefined, fields);
  assert.deepEqual(classify(q4), { kind: "query", group: "", fromRouter: false });
  assert.deepEqual([q4[39], q4[46], q4[47]], [100, 2, 125]);
  const g6 = groupBytes("ff05::1:3");
  const q6 = mldQueryFrame(mac, g6, { ...fields, intervalSeconds: 300 });
  assert.deepEqual(classify(q6), { kind: "query", group: "ff05::1:3", fromRouter: true });
  assert.deepEqual([q6[66], q6[67]], [0x27, 0x10]); // 10000 ms
  // 300 s needs the floating-point QQIC (RFC 3810 §5.1.9): 0x92 = (0x10 | 2) << (1 + 3) = 288 s.
  assert.equal(q6[87], 0x92);
  assert.deepEqual([...q6.subarray(22, 30)], [0xfe, 0x80, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...q6.subarray(0, 6)], [0x33, 0x33, 0, 1, 0, 3]);
  assert.equal(ipv6At(groupBytes("ff02::1:ff00:1"), 0), "ff02::1:ff00:1");
  assert.equal(ipv6At(groupBytes("2001:db8:0:0:1:0:0:1"), 0), "2001:db8::1:0:0:1");
});

Deno.test("classify() (snoop) never throws on truncated or random frames", () => {
  const mac = new Uint8Array([2, 0, 0, 0, 0, 1]);
  const fixtures = [
    ipv4Frame(mac, "10.0.0.2", "224.0.0.22", 2, igmpV3Report([[4, "239.0.0.1", ["10.1.1.1"]]])),
    ipv4Frame(mac, "10.0.0.2", "239.1.2.3", 2, igmpV12(0x16, "239.1.2.3")),
    ipv4Frame(mac, "10.0.0.2", "224.0.0.1", 2, igmp([0x11, 0, 0, 0, 0, 0, 0, 0])),
    mldFrame(mac, "fe80::1", "ff02::16", mldV2Report([[4, "ff05::1", ["2001:db8::1"]]])),
    mldFrame(mac, "fe80::1", "ff02::1", mldQuery("::")),
    udpV6(mac, "fe80::1", "ff05::1", 3),
  ];
  const rng = new SeededRng(11);
  let runs = 0;
  for (const f of fixtures) {
    for (let n = 0; n <= f.length; n++) {
      classify(f.subarray(0, n));
      runs++;
    }
    for (let k = 0; k < 300; k++) {
      const g = f.slice();
      const flips = 1 + rng.nextU32() % 4;
      for (let j = 0; j < flips; j++) g[rng.nextU32() % g.length] = rng.nextU32() & 0xff;
      classify(g);
      runs++;
    }
  }
  assert.ok(runs > 1800);
});

Deno.test("snooping with a querier leaks no buffers", () => {
  const { hosts, send, mac, net } = setup(4, true);
  send(1, ipv4Frame(mac(1), "10.0.0.2", "239.1.2.3", 2, igmpV12(0x16, "239.1.2.3")));
  for (let i = 0; i < 20; i++) send(i % 4, udpV4(mac(i % 4), "10.0.0.9", "239.1.2.3", i));
  net.runFor(300 * SECOND);
  for (const h of hosts) assert.equal(h.pool.outstanding, 0);
  assert.equal(net.pool.outstanding, 0);
});

Deno.test("snooping validates its options", () => {
  const net = new VirtualNetwork();
  assert.throws(() => net.switch({ snooping: { robustness: 0 } }), RangeError);
  assert.throws(() => net.switch({ snooping: { robustness: 8 } }), RangeError);
  assert.throws(() => net.switch({ snooping: { queryInterval: 1.5 } }), RangeError);
  assert.throws(() => net.switch({ snooping: { maxGroups: 0 } }), RangeError);
  assert.throws(
    () => net.switch({ snooping: { queryInterval: SECOND, queryResponseInterval: SECOND } }),
    RangeError,
  );
});

Deno.test("snooping sends reports and every group's data to a configured router port, for good", () => {
  const { snoop, send, mac, net } = setup(3);
  snoop.setRouterPort(2);
  assert.deepEqual(
    send(1, ipv4Frame(mac(1), "10.0.0.2", "239.1.2.3", 2, igmpV12(0x16, "239.1.2.3"))),
    [2],
  );
  assert.deepEqual(send(0, udpV4(mac(0), "10.0.0.1", "239.7.7.7", 1)), [2]);
  net.runFor(1000 * SECOND); // never ages out
  assert.deepEqual(snoop.routerPorts(), [2]);
  assert.throws(() => snoop.setRouterPort(3), RangeError);
  snoop.setRouterPort(2, false);
  assert.deepEqual(send(0, udpV4(mac(0), "10.0.0.1", "239.7.7.7", 1)), []);
});
