import assert from "node:assert/strict";
import { compileFilter } from "./filter.ts";
import { decodeFrame } from "../stack/wire/decode.ts";

// Ethernet 02:00:00:00:00:01 -> 02:00:00:00:00:02, IPv4 10.0.0.1:5000 -> 10.0.0.2:80, TCP SYN.
const TCP = decodeFrame(
  new Uint8Array([
    2,
    0,
    0,
    0,
    0,
    2,
    2,
    0,
    0,
    0,
    0,
    1,
    0x08,
    0x00, // Ethernet
    0x45,
    0,
    0,
    40,
    0,
    1,
    0,
    0,
    64,
    6,
    0,
    0,
    10,
    0,
    0,
    1,
    10,
    0,
    0,
    2, // IPv4
    0x13,
    0x88,
    0,
    80,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0x50,
    0x02,
    0xff,
    0xff,
    0,
    0,
    0,
    0, // TCP
  ]), // deno-fmt-ignore
  1,
);
// Raw IPv4 UDP 192.168.1.5:5353 -> 192.168.1.255:53.
const UDP = decodeFrame(
  new Uint8Array([
    0x45,
    0,
    0,
    28,
    0,
    1,
    0,
    0,
    64,
    17,
    0,
    0,
    192,
    168,
    1,
    5,
    192,
    168,
    1,
    255,
    0x14,
    0xe9,
    0,
    53,
    0,
    8,
    0,
    0,
  ]), // deno-fmt-ignore
  101,
);

function matches(expr: string, frame = TCP): boolean {
  return compileFilter(expr)(frame);
}

Deno.test("compileFilter() takes a protocol before a qualifier: tcp port 80, udp dst port 53", () => {
  assert.ok(matches("tcp port 80"));
  assert.ok(!matches("udp port 80"));
  assert.ok(matches("udp dst port 53", UDP));
  assert.ok(!matches("udp src port 53", UDP));
  assert.ok(matches("ip host 10.0.0.1"));
  assert.ok(!matches("ip6 host 10.0.0.1"));
});

Deno.test("compileFilter() matches net in CIDR, dotted-prefix and mask forms", () => {
  assert.ok(matches("net 10.0.0.0/8"));
  assert.ok(matches("net 10"));
  assert.ok(matches("src net 10.0.0.0 mask 255.255.255.0"));
  assert.ok(!matches("net 192.168.0.0/16"));
  assert.ok(matches("dst net 192.168.1.0/24", UDP));
  assert.ok(matches("net 0.0.0.0/0"));
});

Deno.test("compileFilter() takes src or dst, src and dst, and a bare address after src", () => {
  assert.ok(matches("src or dst host 10.0.0.2"));
  assert.ok(!matches("src and dst host 10.0.0.2"));
  assert.ok(matches("src and dst net 10.0.0.0/8"));
  assert.ok(matches("src 10.0.0.1"));
  assert.ok(!matches("dst 10.0.0.1"));
  assert.ok(matches("10.0.0.2"));
});

Deno.test("compileFilter() repeats qualifiers for a bare value after and/or", () => {
  assert.ok(matches("port 443 or 80"));
  assert.ok(!matches("port 443 or 22"));
  assert.ok(matches("dst host 10.0.0.9 or 10.0.0.2"));
  assert.ok(!matches("dst host 10.0.0.9 or 10.0.0.1")); // still dst
});

Deno.test("compileFilter() groups and/or left to right at one precedence, as tcpdump", () => {
  // The readings differ: tcpdump's (tcp or udp) and udp is false;
  // "and" first, tcp or (udp and udp), would be true.
  assert.equal(matches("tcp or udp and udp"), false);
  assert.equal(matches("tcp or (udp and udp)"), true);
  assert.equal(matches("not udp and tcp"), true); // not binds tightest
  assert.equal(matches("! (tcp || udp)"), false);
});

Deno.test("compileFilter() reads ports by name, port ranges and Ethernet addresses", () => {
  assert.ok(matches("tcp dst port http"));
  assert.ok(matches("portrange 79-81"));
  assert.ok(matches("portrange 81-79"));
  assert.ok(!matches("portrange 81-90"));
  assert.ok(matches("ether src 02:00:00:00:00:01"));
  assert.ok(matches("ether host 02:00:00:00:00:02"));
  assert.ok(!matches("ether dst 02:00:00:00:00:01"));
  assert.ok(!matches("ether host 02:00:00:00:00:01", UDP)); // raw IP has no Ethernet
});

Deno.test("compileFilter() refuses what tcpdump refuses, with a reason", () => {
  for (
    const [expr, why] of [
      ["ether port 80", /"ether" takes host/],
      ["arp port 80", /"arp" has no ports/],
      ["tcp host 10.0.0.1", /"tcp" takes port/],
      ["net 10.0.0.0 mask 255.0.255.0", /not a netmask/],
      ["src or src host 10.0.0.1", /one direction twice/],
      ["portrange 80", /not a port range/],
      ["ether host 10.0.0.1", /not a MAC address/],
      ["not", /ends too early/],
    ] as const
  ) {
    assert.throws(
      () => compileFilter(expr),
      (e: Error) => e instanceof SyntaxError && why.test(e.message),
      expr,
    );
  }
});
