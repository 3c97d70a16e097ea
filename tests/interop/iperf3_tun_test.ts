/**
 * The iperf3 service (plugins/services/iperf3/) against the real `iperf3 -c`
 * from a private network namespace over TUN (tests/services/_interop.ts's
 * `withUp`): TCP forward and reverse (`-R`), two parallel streams (`-P 2`),
 * UDP at 50 Mbit/s both ways, each with `--json` output parsed and checked
 * (bytes at both ends, stream count, no error); a busy server refusing a
 * second client (and two servers, `--serve iperf3,iperf3:5202`, each with its
 * own test at once); and malformed control input (cut cookies, lengths and
 * JSON, seeded) that never stops it from serving the next real client.
 * Runs are short (1-2 s) because the machine is shared.
 *
 * @module
 */
import assert from "node:assert/strict";
import { eventually, HOST, withUp } from "../services/_interop.ts";
import { INTEROP_NEEDS } from "./_netns.ts";
import { BULK_WARNINGS } from "./_ipv6.ts";
import { gated, type Requirement } from "../_require.ts";
import type { UpHarness } from "../services/_interop.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "iperf3"];

/**
 * In reverse mode the iperf3 client closes its data sockets with our data
 * still unread, so Linux resets them (it does so against iperf3's own server).
 */
// Receive windows grow to 6 MiB (auto-tuning); `up` sizes the TUN queue for
// that many full segments (4,310 frames, not Linux's 500), but several streams
// together can still overflow it when a busy machine stalls the event loop,
// after tcpdump saw the frames, so Linux's retransmissions show as out of order.
const CLIENT_RESETS = { allowWarnings: [/^Connection reset \(RST\)/, ...BULK_WARNINGS] };

/** What we read from `iperf3 --json`. */
interface Iperf3Json {
  readonly start: {
    readonly "test_start": { readonly "num_streams": number; readonly reverse: number };
  };
  readonly end: {
    readonly streams: readonly Record<string, Record<string, number | boolean>>[];
    readonly "sum_sent"?: Record<string, number>;
    readonly "sum_received"?: Record<string, number>;
    readonly sum?: Record<string, number>;
  };
  readonly error?: string;
}

/** Runs `iperf3 -c HOST --json ARGS` in the namespace and parses its output. */
async function iperf3(h: UpHarness, args: readonly string[], seconds = 30): Promise<Iperf3Json> {
  const r = await h.exec(["iperf3", "-c", HOST, "--json", ...args], seconds);
  let j: Iperf3Json;
  try {
    j = JSON.parse(r.stdout) as Iperf3Json;
  } catch {
    throw new Error(
      `iperf3 ${args.join(" ")}: exit ${r.code}, not JSON:\n${r.stdout}\n${r.stderr}`,
    );
  }
  assert.equal(j.error, undefined, `iperf3 ${args.join(" ")}: ${j.error}`);
  assert.equal(r.code, 0, r.stderr);
  return j;
}

/** Checks a TCP result: both ends counted bytes, they agree as TCP allows. */
function checkTcp(
  j: Iperf3Json,
  streams: number,
  what: string,
): { sent: number; received: number } {
  assert.equal(j.start.test_start.num_streams, streams, what);
  assert.equal(j.end.streams.length, streams, what);
  const sent = j.end.sum_sent!.bytes!;
  const received = j.end.sum_received!.bytes!;
  assert.ok(sent > 0 && received > 0, `${what}: sent ${sent}, received ${received}`);
  // The receiver counts until TEST_END; what was still in flight then is the
  // difference. It cannot exceed what was sent, nor be far below it.
  assert.ok(received <= sent, `${what}: received ${received} > sent ${sent}`);
  assert.ok(received >= sent * 0.5, `${what}: received ${received} of ${sent}`);
  for (const s of j.end.streams) {
    assert.ok((s.sender!.bytes as number) > 0, `${what}: a stream sent nothing`);
    assert.ok((s.receiver!.bytes as number) > 0, `${what}: a stream received nothing`);
  }
  return { sent, received };
}

Deno.test(gated(NEEDS, {
  name: "iperf3 tun: TCP forward, reverse (-R) and two streams (-P 2): both ends report bytes",
  async fn() {
    await withUp(
      { driver: "tun", serve: "iperf3", snaplen: 128, tshark: CLIENT_RESETS },
      async (h) => {
        // up gave Linux's queue toward us room for a 6 MiB window of 1460-byte segments.
        const link = await h.exec(["ip", "-o", "link", "show", "dev", h.ifname], 5);
        assert.match(link.stdout, / qlen 4310\b/);
        const fwd = checkTcp(await iperf3(h, ["-t", "1"]), 1, "forward");
        const counted = h.stack.counters.value("iperf3.bytes");
        assert.equal(counted, fwd.received, "the stack's counter is what the client was told");
        checkTcp(await iperf3(h, ["-t", "1", "-R"]), 1, "reverse");
        const two = await iperf3(h, ["-t", "1", "-P", "2"]);
        checkTcp(two, 2, "-P 2");
        const rev2 = await iperf3(h, ["-n", "3M", "-R", "-P", "2"]);
        checkTcp(rev2, 2, "-n 3M -R -P 2");
        assert.equal(rev2.end.sum_sent!.bytes, 3 * 1024 * 1024, "-n: exactly that many bytes");
        assert.equal(h.stack.counters.value("iperf3.tests"), 4);
        assert.equal(h.stack.counters.value("iperf3.errors"), 0);
        assert.equal(h.stack.counters.value("iperf3.aborted"), 0);
      },
    );
  },
}));

Deno.test(gated(NEEDS, {
  name: "iperf3 tun: UDP at 50 Mbit/s both ways: packets, loss and jitter at both ends",
  async fn() {
    await withUp({ driver: "tun", serve: "iperf3", snaplen: 128 }, async (h) => {
      for (const reverse of [false, true]) {
        const what = reverse ? "UDP -R" : "UDP";
        const j = await iperf3(h, ["-u", "-b", "50M", "-t", "1", ...(reverse ? ["-R"] : [])]);
        const sent = j.end.sum_sent!;
        const got = j.end.sum_received!;
        // 50 Mbit/s for 1 s is 6.25 MB: the sender paced to within 10 %.
        assert.ok(sent.bytes! > 5.6e6 && sent.bytes! < 6.9e6, `${what}: sent ${sent.bytes}`);
        assert.ok(
          got.bytes! > 0 && got.bytes! <= sent.bytes!,
          `${what}: ${got.bytes}/${sent.bytes}`,
        );
        // Datagrams still in flight when the client ends are neither counted nor lost.
        assert.ok(got.packets! <= sent.packets!, what);
        // Loss depends on the machine's load (a stalled event loop lets the TUN queue
        // overflow): bounded loosely, and it must add up: received = highest - lost.
        assert.ok(got.lost_packets! <= got.packets! * 0.5, `${what}: lost ${got.lost_packets}`);
        if (!reverse) {
          assert.equal(
            (got.packets! - got.lost_packets!) * (sent.bytes! / sent.packets!),
            got.bytes,
            `${what}: received datagrams = highest sequence number - lost`,
          );
        }
        assert.ok(got.jitter_ms! >= 0 && got.jitter_ms! < 50, `${what}: jitter ${got.jitter_ms}`);
        // deno-lint-ignore no-console
        console.log(
          `  ${what}: sent ${sent.packets} datagrams, received ${got.packets}, ` +
            `lost ${got.lost_packets}, jitter ${got.jitter_ms!.toFixed(3)} ms`,
        );
        if (!reverse) {
          assert.equal(got.bytes, h.stack.counters.value("iperf3.bytes"), "our count is theirs");
        }
      }
      // Two UDP streams at 10 Mbit/s each, the stack sending: each paced on its own.
      const two = await iperf3(h, ["-u", "-b", "10M", "-t", "1", "-P", "2", "-R"]);
      assert.equal(two.end.streams.length, 2);
      for (const s of two.end.streams) {
        const bytes = s.udp!.bytes as number;
        assert.ok(bytes > 1.1e6 && bytes < 1.4e6, `a stream sent ${bytes} at 10 Mbit/s for 1 s`);
      }
      assert.equal(h.stack.counters.value("iperf3.tests"), 3);
      assert.equal(h.stack.counters.value("iperf3.errors"), 0);
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "iperf3 tun: a second client while a test runs is told the server is busy",
  async fn() {
    await withUp({ driver: "tun", serve: "iperf3", snaplen: 128 }, async (h) => {
      const first = iperf3(h, ["-t", "3"]);
      first.catch(() => {}); // awaited below
      // The first test is running once the server has counted bytes.
      const running = () => h.stack.counters.value("iperf3.bytes") > 0;
      assert.ok(await eventually(running, 10), "the first test started");
      const r = await h.exec(["iperf3", "-c", HOST, "--json", "-t", "1"], 10);
      const second = JSON.parse(r.stdout) as Iperf3Json;
      assert.match(second.error ?? "", /busy running a test/, r.stdout);
      checkTcp(await first, 1, "the first client");
      assert.equal(h.stack.counters.value("iperf3.busy"), 1);
      assert.equal(h.stack.counters.value("iperf3.tests"), 1);
    });
  },
}));

Deno.test(gated(NEEDS, {
  name: "iperf3 tun: --serve iperf3,iperf3:5202 runs two tests at once, each counted on its own",
  async fn() {
    await withUp(
      { driver: "tun", serve: "iperf3,iperf3:5202", snaplen: 128, tshark: CLIENT_RESETS },
      async (h) => {
        // Started together: neither is refused as busy, as two `iperf3 -s -p` would not be.
        const [a, b] = await Promise.all([
          iperf3(h, ["-t", "1"]),
          iperf3(h, ["-t", "1", "-p", "5202", "-P", "2"]),
        ]);
        const one = checkTcp(a, 1, "port 5201");
        const two = checkTcp(b, 2, "port 5202 -P 2");
        const c = (name: string) => h.stack.counters.value(name);
        assert.equal(c("iperf3.bytes"), one.received, "5201: the stack counted what iperf3 says");
        assert.equal(c("iperf3-5202.bytes"), two.received, "5202: likewise");
        assert.equal(c("iperf3.tests") + c("iperf3-5202.tests"), 2);
        assert.equal(c("iperf3.busy") + c("iperf3-5202.busy"), 0);
        // The second server is as busy as the first while its own test runs.
        const running = iperf3(h, ["-t", "2", "-p", "5202"]);
        running.catch(() => {}); // awaited below
        assert.ok(await eventually(() => c("iperf3-5202.bytes") > two.received, 10));
        const r = await h.exec(["iperf3", "-c", HOST, "--json", "-t", "1", "-p", "5202"], 10);
        assert.match((JSON.parse(r.stdout) as Iperf3Json).error ?? "", /busy running a test/);
        checkTcp(await running, 1, "5202 again");
        assert.equal(c("iperf3-5202.busy"), 1);
      },
    );
  },
}));

Deno.test(gated(NEEDS, {
  name: "iperf3 tun: garbage on the control port and a --bidir test do not stop the next real test",
  async fn() {
    await withUp(
      { driver: "tun", serve: "iperf3", snaplen: 128, tshark: CLIENT_RESETS },
      async (h) => {
        // Not a cookie; a cookie then a huge length; a cookie then a length and non-JSON.
        const cookie = "abcdefghijklmnopqrstuvwxyz0123456789";
        const lines = [
          `head -c 100 /dev/urandom | nc -w 1 ${HOST} 5201`,
          `printf '${cookie}\\000\\377\\377\\377\\377' | nc -w 1 ${HOST} 5201`,
          `printf '${cookie}\\000\\000\\000\\000\\005{{{{{' | nc -w 1 ${HOST} 5201`,
          `printf '${cookie}\\000\\000\\000\\000\\002[]' | nc -w 1 ${HOST} 5201`,
        ];
        for (const l of lines) await h.sh(l, 5);
        assert.ok(
          await eventually(() => h.stack.counters.value("iperf3.malformed") === 4, 5),
          `malformed ${h.stack.counters.value("iperf3.malformed")}`,
        );
        // What it does not do is refused as iperf3 refuses it: "not implemented yet".
        const bidir = await h.exec(["iperf3", "-c", HOST, "--json", "-t", "1", "--bidir"], 10);
        assert.match((JSON.parse(bidir.stdout) as Iperf3Json).error ?? "", /not implemented/);
        // Refused with SERVER_ERROR: the two bad JSON texts above, and --bidir.
        assert.equal(h.stack.counters.value("iperf3.refused"), 3);
        checkTcp(await iperf3(h, ["-t", "1"]), 1, "after the garbage");
        assert.equal(h.stack.counters.value("iperf3.errors"), 0);
      },
    );
  },
}));
