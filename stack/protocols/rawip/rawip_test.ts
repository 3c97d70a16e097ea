import assert from "node:assert/strict";
import {
  checkIcmp,
  checkIpv4,
  type Host,
  icmpEcho,
  ipv4Packet,
  makeHost,
} from "../../../tests/_harness.ts";
import type { TraceEvent } from "../../dispatcher.ts";

const ECHO = ipv4Packet(
  { src: "10.77.0.1", dst: "10.77.0.2", protocol: 1 },
  icmpEcho({ identifier: 3, sequence: 1 }),
);
/** An IPv6 header's first bytes (version 6), enough for the version nibble. */
const IPV6 = new Uint8Array(40);
IPV6[0] = 0x60;

function host(linkType: number): Host {
  return makeHost({ linkType, addresses: ["10.77.0.2/24"] });
}

let answered: Uint8Array[] = [];

/** The verdict rawip gave `bytes`; what the stack sent back goes to `answered`. */
function rawipVerdict(h: Host, bytes: Uint8Array): string | undefined {
  const steps: TraceEvent[] = [];
  h.stack.trace((ev) => steps.push(ev));
  answered = h.inject(bytes);
  h.stack.trace(null);
  return steps.find((s) => s.plugin === "rawip")?.verdict;
}

Deno.test("rawip hands an IPv4 packet on a LINKTYPE_RAW link to ipv4, which answers", () => {
  const h = host(101);
  assert.equal(rawipVerdict(h, ECHO), "next ethertype 2048");
  const out = answered;
  assert.equal(out.length, 1);
  checkIpv4({ src: "10.77.0.2", dst: "10.77.0.1" }, checkIcmp({ type: 0, identifier: 3 }))(out[0]!);
  h.finish();
});

Deno.test("rawip sends IPv6 on a LINKTYPE_RAW link to ethertype 0x86dd", () => {
  const h = host(101);
  assert.equal(rawipVerdict(h, IPV6), "next ethertype 34525");
  h.finish();
});

Deno.test("rawip accepts IPv4 on LINKTYPE_IPV4 (228) and IPv6 on LINKTYPE_IPV6 (229)", () => {
  const v4 = host(228);
  assert.equal(rawipVerdict(v4, ECHO), "next ethertype 2048");
  assert.equal(answered.length, 1);
  v4.finish();
  const v6 = host(229);
  assert.equal(rawipVerdict(v6, IPV6), "next ethertype 34525");
  v6.finish();
});

Deno.test("rawip drops a version that does not fit the link type as rx.bad_version", () => {
  const raw = host(101);
  const v5 = ECHO.slice();
  v5[0] = 0x55;
  assert.equal(rawipVerdict(raw, v5), "drop bad_version");
  raw.finish();
  const v4 = host(228);
  assert.equal(rawipVerdict(v4, IPV6), "drop bad_version");
  assert.equal(v4.counter("rawip.rx.bad_version"), 1);
  v4.finish();
  const v6 = host(229);
  assert.equal(rawipVerdict(v6, ECHO), "drop bad_version");
  v6.finish();
});

Deno.test("rawip drops an empty packet as rx.truncated", () => {
  const h = host(101);
  assert.equal(rawipVerdict(h, new Uint8Array(0)), "drop truncated");
  assert.equal(h.counter("rawip.rx.truncated"), 1);
  h.finish();
});

Deno.test("rawip interfaces send no ARP: the stack's start-up is silent", () => {
  const h = host(101);
  assert.deepEqual(h.boot, []);
  h.finish();
});
