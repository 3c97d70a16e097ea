// deno-lint-ignore-file no-console -- the test silences the CLI by swapping console methods
import assert from "node:assert/strict";
import { runDemo } from "../../cli/demo.ts";
import { main } from "../../cli.ts";
import { UsageError } from "../../cli/_common.ts";
import { parseCapture } from "../../drivers/pcapfile/mod.ts";
import { assertTsharkClean, runTshark } from "../_tshark.ts";

const quiet = () => {};

Deno.test("demo pings the LAN, echoes UDP, traces the route across two routers, and speaks IPv6 after SLAAC", async () => {
  const r = await runDemo(["--no-capture"], quiet);
  assert.equal(r.code, 0);
  assert.equal(r.replies, r.attempts);
  assert.equal(r.udpEchoes, 3);
  assert.deepEqual(r.hops, ["10.0.0.254", "10.1.0.2", "10.2.0.10"]);
  assert.equal(r.tcpOk, true);
  // IPv6: every host configured itself from r1's RA, ping6 and TCP over the SLAAC addresses.
  assert.deepEqual(r.ipv6, { configured: 3, replies: 3, attempts: 3, tcpOk: true });
  // The first full-size TCP segments die at r1 (DF, 1400-byte link) and come
  // back smaller after "fragmentation needed": tshark calls the resent ones
  // out of order, and the far side's gap "not captured". Nothing else may warn.
  await assertTsharkClean(r.capture, {
    allowWarnings: [
      /out-of-order segment/,
      /Previous segment\(s\) not captured/,
      /ACKed segment that wasn't captured/,
    ],
  });
});

Deno.test("demo: the LAN is masqueraded by r1, and the capture shows a flow and an ICMP error on both sides of the translation", async () => {
  const r = await runDemo(["--no-capture"], quiet);
  assert.equal(r.code, 0);
  const rows = async (filter: string, fields: string[]) =>
    (await runTshark(r.capture, [
      "-Y",
      filter,
      "-T",
      "fields",
      ...fields.flatMap((f) => ["-e", f]),
    ]))
      .split("\n").filter((l) => l !== "");
  // The TCP echo's SYN and SYN-ACK: inside addresses on the LAN, r1's WAN address on the WAN.
  const ipTcp = ["frame.interface_name", "ip.src", "ip.dst", "tcp.srcport", "tcp.dstport"];
  const syns = await rows("tcp.flags.syn == 1 && tcp.port == 7 && ip.addr == 10.2.0.10", ipTcp);
  assert.equal(syns.length, 4, syns.join("\n"));
  const port = syns[0]!.split("\t")[3]!;
  assert.deepEqual(syns, [
    `h1\t10.0.0.1\t10.2.0.10\t${port}\t7`,
    `r1.wan\t10.1.0.1\t10.2.0.10\t${port}\t7`,
    `r2.wan\t10.2.0.10\t10.1.0.1\t7\t${port}`,
    `r1.lan\t10.2.0.10\t10.0.0.1\t7\t${port}`,
  ]);
  // No inside address on the WAN.
  assert.deepEqual(
    await rows('frame.interface_name matches "wan" && ip.addr == 10.0.0.0/24', ipTcp),
    [],
  );
  // traceroute's time exceeded from r2: to 10.1.0.1 quoting 10.1.0.1 on the WAN, then
  // translated (outer and quoted header) to 10.0.0.1 on the LAN.
  const errors = await rows(
    "icmp.type == 11 && ip.src == 10.1.0.2",
    ["frame.interface_name", "ip.src", "ip.dst"],
  );
  assert.deepEqual(errors, [
    "r2.wan\t10.1.0.2,10.1.0.1\t10.1.0.1,10.2.0.10",
    "r1.lan\t10.1.0.2,10.0.0.1\t10.0.0.1,10.2.0.10",
  ]);
});

Deno.test("demo gives a byte-identical capture for the same seed and another for another seed", async () => {
  const a = await runDemo(["--no-capture", "--seed", "9", "--hosts", "4"], quiet);
  const b = await runDemo(["--no-capture", "--seed", "9", "--hosts", "4"], quiet);
  const c = await runDemo(["--no-capture", "--seed", "10", "--hosts", "4"], quiet);
  assert.deepEqual(a.capture, b.capture);
  assert.notDeepEqual(a.capture, c.capture);
});

Deno.test("demo writes its capture file and rejects bad flags", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/demo.pcapng`;
    const lines: string[] = [];
    const r = await runDemo(["--out", out], (l) => lines.push(l));
    assert.deepEqual(await Deno.readFile(out), r.capture);
    const pcap = `${dir}/demo.pcap`;
    await runDemo(["--out", pcap], quiet);
    const classic = parseCapture(await Deno.readFile(pcap));
    assert.equal(classic.format, "pcap");
    assert.equal(classic.records.length, parseCapture(r.capture).records.length);
    assert.ok(lines.some((l) => l.startsWith("capture written to")));
    await assert.rejects(runDemo(["--hosts", "1"], quiet), UsageError);
    await assert.rejects(runDemo(["--seed", "x"], quiet), UsageError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli main answers help and refuses unknown commands", async () => {
  const log = console.log;
  const error = console.error;
  console.log = console.error = () => {};
  try {
    assert.equal(await main(["help"]), 0);
    assert.equal(await main(["demo", "--help"]), 0);
    assert.equal(await main(["nope"]), 2);
  } finally {
    console.log = log;
    console.error = error;
  }
});
