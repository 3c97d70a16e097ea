/**
 * What the `segmentSize` (USO) interop tests share (`uso_tun_test.ts`,
 * `uso_tap_test.ts`): a Python receiver on a Linux kernel socket that
 * reports each datagram's length and SHA-256, and a send from the stack
 * that checks Linux got every datagram a `segmentSize` send stands for.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import type { DeviceHarness } from "./_netns.ts";

/** Binds, says "ready", receives `n` datagrams (10 s each at most), prints [length, sha256, source] of each. */
const RECEIVER = `
import hashlib, json, socket, sys
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.bind((host, port))
s.settimeout(10)
print("ready", flush=True)
got = []
try:
    for _ in range(n):
        d, src = s.recvfrom(70000)
        got.append([len(d), hashlib.sha256(d).hexdigest(), src[0]])
except socket.timeout:
    pass
print(json.dumps(got), flush=True)
`;

/** `n` bytes of a pattern that differs per datagram. */
export function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + (i >>> 7) + seed) & 0xff;
  return b;
}

/** [length, sha256] of each datagram a send of `data` in segments of `size` makes. */
function expected(data: Uint8Array, size: number): [number, string][] {
  const out: [number, string][] = [];
  for (let at = 0; at < data.length; at += size) {
    const d = data.subarray(at, at + size);
    out.push([d.length, createHash("sha256").update(d).digest("hex")]);
  }
  return out;
}

/**
 * Sends each of `sends` (payload lengths; send i is `pattern(n, i)`) with
 * `segmentSize` from the stack to a Linux receiver bound to `to` port 5004
 * in `h.netns` (`sendTo`: the address the stack sends to, when NAT maps it
 * there), and checks Linux got every datagram, in order, with its length
 * and bytes; returns the sources Linux saw.
 */
export async function sendToLinux(
  h: Pick<DeviceHarness, "netns" | "stack">,
  to: string,
  segmentSize: number,
  sends: readonly number[],
  sendTo: { hostname: string; port: number } = { hostname: to, port: 5004 },
): Promise<Set<string>> {
  const want: [number, string][] = [];
  const payloads = sends.map((n, i) => pattern(n, i));
  for (const p of payloads) want.push(...expected(p, segmentSize));
  const child = new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      h.netns,
      "timeout",
      "60",
      "python3",
      "-c",
      RECEIVER,
      to,
      "5004",
      String(want.length),
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("ready\n")) {
    const r = await lines.read();
    if (r.done) break;
    out += r.value;
  }
  const conn = h.stack.listenDatagram({
    transport: "udp",
    hostname: to.includes(":") ? "::" : "0.0.0.0",
    segmentSize,
  });
  try {
    for (const p of payloads) {
      assert.equal(await conn.send(p, sendTo), p.length);
    }
  } finally {
    conn.close();
  }
  for (;;) {
    const r = await lines.read();
    if (r.done) break;
    out += r.value;
  }
  const status = await child.status;
  const err = new TextDecoder().decode(await new Response(child.stderr).arrayBuffer());
  assert.ok(status.success, `receiver: ${err}`);
  const got = JSON.parse(out.slice(out.indexOf("ready\n") + 6)) as [number, string, string][];
  assert.deepEqual(got.map(([n, hash]) => [n, hash]), want);
  return new Set(got.map((g) => g[2]));
}
