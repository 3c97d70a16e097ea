/**
 * The example service `plugins/reverse_lines` on the virtual network, built
 * from `mod.ts`'s public exports only (as a user's own test would be): the
 * same seed gives the same capture byte for byte across a lossy, reordering
 * link, another seed other frames but the same answers; lines split across
 * reads and joined in one; UDP; and its bounds: a line over `maxLineBytes`,
 * connections over `maxConnections`, bad options at boot.
 */
import assert from "node:assert/strict";
import {
  CaptureTap,
  createStack,
  MILLISECOND,
  PcapngWriter,
  type Stack,
  VirtualNetwork,
} from "../../mod.ts";
import { reverseLine, reverseLinesPlugin } from "../../plugins/reverse_lines/mod.ts";
import { assertTsharkClean } from "../_tshark.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** 120 lines of 0..79 characters, some with CR LF, and the last without an end. */
function script(): string {
  let s = "";
  for (let i = 0; i < 120; i++) {
    const len = (i * 37) % 80;
    let line = "";
    for (let j = 0; j < len; j++) line += String.fromCharCode(0x21 + ((i * 7 + j * 13) % 94));
    s += line + (i === 119 ? "" : i % 3 === 0 ? "\r\n" : "\n");
  }
  return s + "ünïcødé 😀";
}

/** What the service should send back for `text`. */
function expected(text: string): string {
  return text.split(/(?<=\n)/).map(reverseLine).join("");
}

interface Session {
  readonly tcp: string;
  readonly udp: string;
  readonly capture: Uint8Array;
  readonly counters: Record<string, number>;
  /** TCP segments the client and the server sent again. */
  readonly retransmissions: number;
}

/** A TCP session (the script written in 7-byte pieces) and one datagram, on a lossy link. */
async function session(seed: number): Promise<Session> {
  const net = new VirtualNetwork({ seed });
  const link = net.link({
    faults: { delay: 5 * MILLISECOND, jitter: MILLISECOND, loss: 0.15, reorder: 0.05 },
  });
  const writer = new PcapngWriter({ interfaces: [{ linkType: link.a.linkType, name: "eth0" }] });
  const tap = new CaptureTap(link.a, { writer });
  const client = net.addNode(createStack({ clock: net.clock, seed: seed * 2 + 1 }));
  const server = net.addNode(
    createStack({ clock: net.clock, seed: seed * 2 + 2, extraPlugins: [reverseLinesPlugin] }),
  );
  client.addInterface({ driver: tap, addresses: ["10.0.0.1/24"] });
  server.addInterface({ driver: link.b, addresses: ["10.0.0.2/24"] });
  try {
    const bytes = enc.encode(script());
    const [tcp, udp] = await net.run(async () => {
      const conn = await client.connect({ hostname: "10.0.0.2", port: 7272 });
      const reading = new Response(conn.readable).text();
      for (let off = 0; off < bytes.length; off += 7) {
        await conn.write(bytes.subarray(off, off + 7));
      }
      await conn.closeWrite();
      const tcp = await reading;
      conn.close();
      const sock = client.listenDatagram({ transport: "udp", port: 41000 });
      // Datagrams get lost too: send again until the one answer awaited comes (bounded).
      const answer = sock.receive().then(([d]) => dec.decode(d), () => "");
      let udp = "";
      for (let i = 0; i < 20 && udp === ""; i++) {
        await sock.send(enc.encode("ab\ncd\r\n"), { hostname: "10.0.0.2", port: 7272 });
        const late = new Promise<string>((r) => net.at(net.now() + 200 * MILLISECOND, () => r("")));
        udp = await Promise.race([answer, late]);
      }
      sock.close();
      return [tcp, udp];
    }, { timeout: 120_000 * MILLISECOND });
    assert.equal(tap.errors, 0);
    return {
      tcp,
      udp,
      capture: writer.bytes(),
      counters: server.counters.snapshot(),
      retransmissions: client.counters.value("tcp.retrans_segs") +
        server.counters.value("tcp.retrans_segs"),
    };
  } finally {
    client.close();
    server.close();
    net.close();
  }
}

Deno.test("reverse_lines: the same seed gives the same capture, another seed the same answers", async () => {
  const a = await session(3);
  const b = await session(3);
  const c = await session(4);
  const want = expected(script());
  assert.equal(a.tcp, want);
  const last = a.tcp.slice(a.tcp.lastIndexOf("\n") + 1);
  assert.ok(last.startsWith("😀 édøcïnü"), "the last line, without an end, comes back too");
  assert.equal(a.udp, "ba\ndc\r\n");
  assert.deepEqual(a.capture, b.capture, "same seed, same bytes on the wire");
  assert.notDeepEqual(a.capture, c.capture, "another seed, other faults");
  assert.equal(c.tcp, want);
  assert.equal(c.udp, "ba\ndc\r\n");
  assert.equal(a.counters["reverse_lines.connections"], 1);
  assert.ok((a.counters["reverse_lines.lines"] ?? 0) >= 120 + 2);
  assert.ok(a.retransmissions > 0, "the link lost segments: both ends sent again");
  await assertTsharkClean(a.capture, {
    // 15% loss and reordering: Wireshark's notes about them are the link's doing.
    allowWarnings: [
      /^Previous segment\(s\) not captured/,
      /^ACKed segment that wasn't captured/,
      /^This frame is a \(suspected\) out-of-order segment/,
      /^This frame is a \(suspected\) retransmission/,
      /^This frame is a \(suspected\) spurious retransmission/,
      /^Duplicate ACK/,
      /^Connection reset/,
    ],
  });
});

/** A server running reverse_lines with `options`, a client, and `fn` between them. */
async function withServer(
  options: Record<string, number | string | boolean>,
  fn: (client: Stack, server: Stack) => Promise<void>,
): Promise<void> {
  const net = new VirtualNetwork({ seed: 1 });
  const link = net.link();
  const server = net.addNode(createStack({
    clock: net.clock,
    seed: 1,
    extraPlugins: [{ plugin: reverseLinesPlugin, options }],
  }));
  const client = net.addNode(createStack({ clock: net.clock, seed: 2 }));
  server.addInterface({ driver: link.a, addresses: ["10.0.0.2/24"] });
  client.addInterface({ driver: link.b, addresses: ["10.0.0.1/24"] });
  try {
    await net.run(() => fn(client, server), { timeout: 60_000 * MILLISECOND });
  } finally {
    client.close();
    server.close();
    net.close();
  }
}

Deno.test("reverse_lines: a line over maxLineBytes is refused and the connection closed", async () => {
  await withServer({ maxLineBytes: 16 }, async (client, server) => {
    const conn = await client.connect({ hostname: "10.0.0.2", port: 7272 });
    // 15 bytes and its LF fit (16); the next 20 do not.
    await conn.write(enc.encode("abcdefghijklmn\nabcdefghijklmnopqrst\nmore\n"));
    const text = await new Response(conn.readable).text();
    conn.close();
    assert.equal(text, "nmlkjihgfedcba\nline too long\n");
    assert.equal(server.counters.value("reverse_lines.long_lines"), 1);
    assert.equal(server.counters.value("reverse_lines.lines"), 1);
  });
});

Deno.test("reverse_lines: connections over maxConnections are reset and counted", async () => {
  await withServer({ maxConnections: 1 }, async (client, server) => {
    const first = await client.connect({ hostname: "10.0.0.2", port: 7272 });
    const second = await client.connect({ hostname: "10.0.0.2", port: 7272 });
    await assert.rejects(second.read(new Uint8Array(1)), Deno.errors.ConnectionReset);
    second.close();
    await first.write(enc.encode("ok\n"));
    const buf = new Uint8Array(3);
    let got = 0;
    while (got < 3) got += (await first.read(buf.subarray(got))) ?? 3;
    assert.equal(dec.decode(buf), "ko\n");
    first.close();
    assert.equal(server.counters.value("reverse_lines.rejected"), 1);
    assert.equal(server.counters.value("reverse_lines.connections"), 1);
  });
});

Deno.test("reverse_lines: bad options fail the boot naming the service, before it listens", () => {
  for (
    const [options, cause, words] of [
      [{ maxLineBytes: 1 }, RangeError, "maxLineBytes 1 is not in 2..65536"],
      [{ maxLineBytes: 1.5 }, TypeError, "maxLineBytes 1.5 is not an integer"],
      [{ port: 0 }, RangeError, "port 0 is not in 1..65535"],
      [{ hostname: "example.com" }, TypeError, '"example.com" is not an IP address'],
    ] as const
  ) {
    // The stack's rule for bad option values: the class kept, the plugin named.
    assert.throws(
      () => createStack({ extraPlugins: [{ plugin: reverseLinesPlugin, options }] }),
      (e: unknown) =>
        e instanceof cause && e.message.startsWith(
          `Plugin "reverse_lines" failed in setup(): Cannot set up reverse_lines: ${words}`,
        ),
      JSON.stringify(options),
    );
  }
});
