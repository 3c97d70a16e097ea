/**
 * The packetdrill runner itself (drill/): the parser's forms, and that a
 * script fails at the right line with packetdrill's words, or is "not run"
 * with the reason, never passing by skipping.
 */
import assert from "node:assert/strict";
import { parseScript, runScript } from "../../drill/mod.ts";
import { runDrill } from "../../cli/drill.ts";
import { PASSIVE } from "./_drill.ts";

Deno.test("drill parseScript() reads times, ranges, options, flags and errno", () => {
  const s = parseScript(`--tolerance_usecs=10000
0 socket(..., SOCK_STREAM|SOCK_NONBLOCK, IPPROTO_TCP) = 3
+.1 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
0.2~0.3 > S 0:0(0) <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>
* > [ect0] F. 1:1(0) ack 2 win 100
+0 < 5000>8080 P. 1:1001(1000) ack 1 win 257 <nop,nop,sack 1:2 3:4>
+0...0.5 read(3, ..., 10) = 10
+0 %{ assert tcpi_snd_cwnd == 10 }%
`);
  assert.deepEqual(s.options, [{ name: "tolerance_usecs", value: "10000", line: 1 }]);
  const [sock, conn, syn, fin, data, read, code] = s.events;
  assert.deepEqual(sock!.time, { kind: "absolute", usecs: 0 });
  assert.deepEqual(conn!.time, { kind: "relative", usecs: 100_000 });
  assert.ok(conn!.action.type === "syscall");
  assert.equal(conn!.action.call.errno, "EINPROGRESS");
  assert.equal(conn!.action.call.note, "Operation now in progress");
  assert.deepEqual(syn!.time, { kind: "absolute_range", usecs: 200_000, endUsecs: 300_000 });
  assert.ok(syn!.action.type === "packet" && syn!.action.packet.protocol === "tcp");
  assert.equal(syn!.action.packet.options?.length, 5);
  assert.equal(fin!.time.kind, "any");
  assert.ok(fin!.action.type === "packet" && fin!.action.packet.protocol === "tcp");
  assert.equal(fin!.action.packet.flags, "F");
  assert.ok(fin!.action.packet.ackFlag);
  assert.equal(fin!.action.packet.ip.ecn, "ect0");
  assert.ok(data!.action.type === "packet" && data!.action.packet.protocol === "tcp");
  assert.deepEqual(data!.action.packet.ports, [5000, 8080]);
  assert.deepEqual(data!.action.packet.options, [{ kind: "nop" }, { kind: "nop" }, {
    kind: "sack",
    blocks: [[1, 2], [3, 4]],
  }]);
  assert.ok(read!.action.type === "syscall");
  assert.equal(read!.action.call.endUsecs, 500_000);
  assert.ok(code!.action.type === "code");
});

Deno.test("drill parseScript() rejects inconsistent sequence numbers with the line", () => {
  assert.throws(
    () => parseScript("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < . 1:10(5) ack 1 win 1\n"),
    (e) => {
      assert.equal((e as { line: number }).line, 2);
      assert.match((e as Error).message, /inconsistent/);
      return true;
    },
  );
});

Deno.test("drill descriptors are the script's, as packetdrill maps them", () => {
  const r = runScript(`0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 7
+0 fcntl(7, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(7, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) <...>
+0 close(3) = -1 EBADF (Bad file descriptor)
\`/tmp/restore_sysctls.sh\`
`);
  assert.equal(r.status, "passed", r.message);
});

Deno.test("drill a passing script passes, in virtual time", () => {
  const r = runScript(`${PASSIVE}+0 write(4, ..., 1000) = 1000\n+0 > P. 1:1001(1000) ack 1\n`);
  assert.equal(r.status, "passed", r.message);
  assert.equal(r.elapsed, 100_000);
});

Deno.test("drill an outbound field that differs fails at its line with expected and actual", () => {
  const r = runScript(`${PASSIVE}+0 write(4, ..., 1000) = 1000\n+0 > P. 1:1001(1000) ack 7\n`);
  assert.equal(r.status, "failed");
  assert.equal(r.line, 9);
  assert.match(
    r.message!,
    /live packet field tcp_ack_seq: expected: 7 \(0x7\) vs actual: 1 \(0x1\)/,
  );
  assert.match(r.message!, /script packet: +0\.100000 P\. 1:1001\(1000\) ack 7/);
});

Deno.test("drill a packet outside the time tolerance fails with a timing error", () => {
  const r = runScript(`${PASSIVE}+0 write(4, ..., 1000) = 1000\n+.01 > P. 1:1001(1000) ack 1\n`);
  assert.equal(r.status, "failed");
  assert.equal(r.line, 9);
  assert.match(
    r.message!,
    /timing error: expected outbound packet at 0\.110000 sec but happened at 0\.100000 sec; tolerance 0\.004000 sec/,
  );
  // The script's own tolerance option widens the window.
  const wide = runScript(
    `--tolerance_usecs=20000\n${PASSIVE}+0 write(4, ..., 1000) = 1000\n+.01 > P. 1:1001(1000) ack 1\n`,
  );
  assert.equal(wide.status, "passed", wide.message);
});

Deno.test("drill an extra outbound packet fails the next line while outbound lines remain", () => {
  const r = runScript(
    `${PASSIVE}+0 write(4, ..., 1000) = 1000\n+.05 < . 1:1(0) ack 1 win 257\n+0 close(4) = 0\n` +
      `+0 > F. 1001:1001(0) ack 1\n`,
  );
  assert.equal(r.status, "failed");
  assert.equal(r.line, 9);
  assert.match(r.message!, /unexpected outbound packet at 0\.100000: P\. 1:1001\(1000\) ack 1/);
  // After the last outbound line packetdrill looks at nothing more: neither does the runner.
  const tail = runScript(
    `${PASSIVE}+0 write(4, ..., 1000) = 1000\n+.05 < . 1:1(0) ack 1 win 257\n`,
  );
  assert.equal(tail.status, "passed", tail.message);
});

Deno.test("drill a packet that never comes fails with a time-out", () => {
  const r = runScript(`${PASSIVE}+0 > P. 1:1001(1000) ack 1\n`);
  assert.equal(r.status, "failed");
  assert.equal(r.line, 8);
  assert.match(r.message!, /timed out waiting for outbound packet/);
});

Deno.test("drill a wrong system call result fails with both values", () => {
  const r = runScript(`${PASSIVE}+0 write(4, ..., 10) = 5\n`);
  assert.equal(r.status, "failed");
  assert.equal(r.line, 8);
  assert.match(r.message!, /write\(\): expected result 5 but got 10/);
  // A call not written as blocking ("...END") that blocks fails too.
  const blocked = runScript(`${PASSIVE}+0 read(4, ..., 10) = 10\n`);
  assert.match(blocked.message!, /read\(\) blocked/);
  const nb = runScript(
    `${PASSIVE}+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n+0 read(4, ..., 10) = 0\n`,
  );
  assert.match(nb.message!, /expected result 0 but got -1 with errno 11 \(EAGAIN\)/);
});

Deno.test("drill a failed tcp_info assertion names the field and its value", () => {
  const r = runScript(`${PASSIVE}+0 %{ assert tcpi_snd_cwnd == 3, tcpi_snd_cwnd }%\n`);
  assert.equal(r.status, "failed");
  assert.equal(r.line, 8);
  assert.match(r.message!, /assertion failed: tcpi_snd_cwnd == 3 \(tcpi_snd_cwnd=10\)/);
});

Deno.test("drill lines the stack cannot run make the script not run, with the reason", () => {
  const cases: [string, RegExp][] = [
    [`${PASSIVE}+0 \`sysctl -q net.ipv4.tcp_min_tso_segs=2\`\n`, /no counterpart/],
    [
      `${PASSIVE}+0 setsockopt(4, IPPROTO_TCP, TCP_CORK, [1], 4) = 0\n`,
      /TCP_CORK has no counterpart/,
    ],
    [`${PASSIVE}+0 %{ assert tcpi_unacked == 0 }%\n`, /tcpi_unacked has no counterpart/],
    [`${PASSIVE}+0 %{ print(tcpi_rtt) }%\n`, /only assert/],
    [`--ip_version=ipv9\n${PASSIVE}`, /expected ipv4, ipv4-mapped-ipv6 or ipv6/],
    [`--no_such_option\n${PASSIVE}`, /--no_such_option is not supported/],
    [`${PASSIVE}+0 sendmsg(4, {}, 0) = 0\n`, /sendmsg\(\) is not supported/],
    [`${PASSIVE}+0 < S 0:0(0) win 100 <md5 abc>\n`, /MD5/],
    [`\`sysctl -q net.ipv4.tcp_fastopen=0x603\`\n${PASSIVE}`, /only 0x1 \(client\) and 0x2/],
    [`\`sysctl -q net.ipv4.tcp_ecn=3\`\n${PASSIVE}`, /expected 0, 1 or 2/],
    [
      `${PASSIVE}+0 setsockopt(3, SOL_TCP, TCP_FASTOPEN_KEY, "a", 16) = 0\n`,
      /TCP_FASTOPEN_KEY has no counterpart/,
    ], // Nothing to check: it would pass whatever the stack did.
    ["", /no events/],
    ["// only a comment\n--tolerance_usecs=1000\n", /no events/],
  ];
  for (const [script, why] of cases) {
    const r = runScript(script);
    assert.equal(r.status, "not run", script);
    assert.match(r.message!, why);
    assert.equal(r.events, 0, "nothing ran before the reason was found");
  }
  // A sysctl with a counterpart configures the stack instead: no timestamps.
  const r = runScript(`\`sysctl -q net.ipv4.tcp_timestamps=0\`
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) <mss 1460,nop,nop,sackOK,nop,wscale 8>
`);
  assert.equal(r.status, "passed", r.message);
});

Deno.test("drill gathers back-to-back segments into a super-segment unless --strict_segments", () => {
  const script = `${PASSIVE}+0 write(4, ..., 5000) = 5000\n+0 > P. 1:5001(5000) ack 1\n`;
  const tso = runScript(script);
  assert.equal(tso.status, "passed", tso.message);
  const strict = runScript(script, { strictSegments: true });
  assert.equal(strict.status, "failed");
  assert.match(strict.message!, /tcp_psh|tcp_payload_len/);
  const option = runScript(`--strict_segments\n${script}`);
  assert.equal(option.status, "failed");
  assert.equal(option.line, 10); // one line lower: the option is line 1
  // Gathering never splits: a line shorter than what was sent fails.
  const short = runScript(`${PASSIVE}+0 write(4, ..., 5000) = 5000\n+0 > . 1:501(500) ack 1\n`);
  assert.match(short.message!, /tcp_payload_len: expected: 500/);
});

Deno.test("drill maps TSO onto the link's tsoMaxSize: one frame per super-segment, with --strict_segments", () => {
  const script = `${PASSIVE}+0 write(4, ..., 5000) = 5000\n+0 > P. 1:5001(5000) ack 1\n`;
  const on = runScript(script, { strictSegments: true, tso: true });
  assert.equal(on.status, "passed", on.message);
  const ethtool = runScript(`\`ethtool -K tun0 tso on\`\n${script}`, { strictSegments: true });
  assert.equal(ethtool.status, "passed", ethtool.message);
  // The script's own line wins over the option; without TSO it is five segments again.
  const off = runScript(`\`ethtool -K tun0 gso on tso off\`\n${script}`, {
    strictSegments: true,
    tso: true,
  });
  assert.equal(off.status, "failed");
  assert.match(off.message!, /tcp_psh|tcp_payload_len/);
  // With TSO a line shorter than the super-segment fails (gathering never splits).
  const short = runScript(`${PASSIVE}+0 write(4, ..., 5000) = 5000\n+0 > P. 1:1001(1000) ack 1\n`, {
    tso: true,
  });
  assert.match(short.message!, /tcp_payload_len: expected: 1000/);
  // The interface's offloads are fixed when it is added: not mid-script.
  const mid = runScript(`${PASSIVE}+0 \`ethtool -K tun0 tso on\`\n`);
  assert.equal(mid.status, "not run");
  assert.match(mid.message!, /TSO on or off mid-script/);
  const same = runScript(`${PASSIVE}+0 \`ethtool -K tun0 tso off\`\n`);
  assert.equal(same.status, "passed", same.message);
});

Deno.test("drill cli: exit 1 when a script fails, 2 on bad usage, 0 with -h", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/good.pkt`, PASSIVE);
    await Deno.writeTextFile(`${dir}/bad.pkt`, `${PASSIVE}+0 > P. 1:1001(1000) ack 1\n`);
    const lines: string[] = [];
    const print = (l: string) => lines.push(l);
    assert.equal(await runDrill([`${dir}/good.pkt`], { print, printError: print }), 0);
    assert.equal(await runDrill([dir, "-v"], { print, printError: print }), 1);
    assert.ok(lines.some((l) => /^FAIL +.*bad\.pkt:8: timed out/.test(l)), lines.join("\n"));
    assert.ok(lines.includes("1 passed, 1 failed, 0 not run"));
    assert.ok(lines.some((l) => l.includes("Flags [S.]")), "--verbose prints packets like tcpdump");
    assert.equal(await runDrill([], { print, printError: print }), 2);
    assert.equal(await runDrill([`${dir}/none.pkt`], { print, printError: print }), 2);
    assert.equal(await runDrill(["-h"], { print, printError: print }), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("drill --tcp_ts_tick_usecs checks outbound TS vals; ioctl SIOCINQ reads the queue", () => {
  const script = (tsval: number) =>
    `--tcp_ts_tick_usecs=1000
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 20000 <mss 1000,sackOK,TS val 100 ecr 0>
+0 > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 100 ecr 100>
+.1 < . 1:1(0) ack 1 win 20000 <nop,nop,TS val 200 ecr 100>
+0 accept(3, ..., ...) = 4
+0 < . 1:1001(1000) ack 1 win 20000 <nop,nop,TS val 201 ecr 100>
+0 > . 1:1(0) ack 1001 <nop,nop,TS val ${tsval} ecr 201>
+0 ioctl(4, SIOCINQ, [1000]) = 0
`;
  assert.equal(runScript(script(200)).status, "passed"); // 100 ms after the SYN-ACK's 100
  const late = runScript(script(210));
  assert.equal(late.status, "failed");
  assert.match(late.message!, /bad outbound TCP timestamp value: expected: 210 vs actual: 200/);
});

Deno.test("drill runScript() validates its arguments before running anything", () => {
  assert.throws(() => runScript(42 as unknown as string), TypeError);
  assert.throws(() => runScript("", { tolerance: 1.5 }), TypeError);
  assert.throws(() => runScript("", { tolerance: -1 }), RangeError);
  assert.throws(() => runScript("", { seed: Number.NaN }), TypeError);
  assert.equal(runScript("").status, "not run"); // an empty script checks nothing: not a pass
});

const TFO_SERVER = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 setsockopt(3, SOL_TCP, TCP_FASTOPEN, [1], 4) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 32792 <mss 1460,sackOK,nop,nop,FO,nop,nop>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,nop,FO abcd1234abcd1234>
+.1 < R 1:1(0) win 0
`; // 7 lines

Deno.test("drill binds a Fast Open cookie literal to the stack's cookie, then holds it", () => {
  // The bound literal is the valid cookie: the SYN's data is acknowledged.
  const ok = runScript(`${TFO_SERVER}+0 < S 9:19(10) win 32792 <FO abcd1234abcd1234,nop,nop>
+0 > S. 0:0(0) ack 20 <mss 1460>
`);
  assert.equal(ok.status, "passed", ok.message);
  // An unbound literal goes out as written: not valid, data not acknowledged.
  const bad = runScript(`${TFO_SERVER}+0 < S 9:19(10) win 32792 <FO 0102030405060708,nop,nop>
+0 > S. 0:0(0) ack 20 <...>
`);
  assert.equal(bad.status, "failed");
  assert.equal(bad.line, 9);
  assert.match(bad.message!, /tcp_ack_seq: expected: 20 .* actual: 10 /);
  // A second literal for the same live cookie is a mismatch, as in packetdrill.
  const two = runScript(`${TFO_SERVER}+0 < S 9:9(0) win 32792 <FO,nop,nop>
+0 > S. 0:0(0) ack 10 <mss 1460,nop,nop,FO 0000111122223333>
`);
  assert.equal(two.status, "failed");
  assert.equal(two.line, 9);
  assert.match(two.message!, /bad outbound TCP options/);
});

Deno.test("drill sendto(MSG_FASTOPEN) connects with the data; tcp_ecn=1 requests ECN", () => {
  const r = runScript(`\`sysctl -q net.ipv4.tcp_ecn=1\`
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 sendto(3, ..., 10, MSG_FASTOPEN, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > SEW 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8,nop,nop,FO>
+.1 < SE. 0:0(0) ack 1 win 5792 <mss 1460,nop,nop,sackOK,nop,wscale 6,FO 11223344,nop,nop>
+0 > [ect0] P. 1:11(10) ack 1
`);
  assert.equal(r.status, "passed", r.message);
});
