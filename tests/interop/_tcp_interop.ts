/**
 * What the TCP interop tests over TUN share (`ecn_tun_test.ts`,
 * `syncookie_test.ts`, `fastopen_tun_test.ts`): a per-namespace sysctl,
 * a listener's accept loop, a small HTTP/1.0 responder on the stack, and the
 * curl command that downloads from it.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { TcpConn, TcpListener } from "../../mod.ts";
import type { DeviceHarness } from "./_netns.ts";

/** Sets `setting` (`"net.ipv4.tcp_ecn=1"`) with `sysctl -w` inside the test's namespace only. */
export async function setSysctl(h: DeviceHarness, setting: string): Promise<void> {
  const r = await h.exec(["sysctl", "-w", setting], 5);
  assert.equal(r.code, 0, r.stderr);
}

/**
 * Hands every connection `listener` accepts to `handle`, one after the other
 * or (`concurrent`) each on its own, so that a stalled one cannot hold up the
 * rest. The promise settles when the listener closes; handler errors are dropped.
 */
export function acceptEach(
  listener: TcpListener,
  handle: (conn: TcpConn) => Promise<void>,
  concurrent = false,
): Promise<void> {
  return (async () => {
    for (;;) {
      const conn = await listener.accept();
      if (concurrent) handle(conn).catch(() => {});
      else await handle(conn);
    }
  })().catch(() => {}); // ends when the listener closes
}

/** Reads from `conn` until the text read holds `marker` (or the stream ends); returns that text. */
export async function readUntil(conn: TcpConn, marker: string): Promise<string> {
  const buf = new Uint8Array(4096);
  let text = "";
  while (!text.includes(marker)) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  return text;
}

/** Reads an HTTP request head, answers `200 OK` with `body` (HTTP/1.0, `Connection: close`), closes. */
export async function serveHttp(conn: TcpConn, body: Uint8Array): Promise<void> {
  await readUntil(conn, "\r\n\r\n");
  const msg = new TextEncoder().encode(
    `HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
  );
  for (const part of [msg, body]) {
    for (let off = 0; off < part.length;) off += await conn.write(part.subarray(off));
  }
  conn.close();
}

/** curl fetching `url` (10 s at most, no proxy) into /dev/null, printing only the bytes it downloaded. */
export function curlSize(url: string): string[] {
  return [
    "curl",
    "-sS",
    "--noproxy",
    "*",
    "--max-time",
    "10",
    "-o",
    "/dev/null",
    "-w",
    "%{size_download}",
    url,
  ];
}
