/**
 * Urgent data against Linux over a real TUN device: a Python client sends
 * `abc`, `!` with `MSG_OOB`, then `def`. Into the stack's default (inline,
 * SO_OOBINLINE) socket the stream is `abc!def`; with `setOobInline(false)`
 * it is `abcdef` and `readUrgent()` gives `!`. The other way, the stack's
 * `sendUrgent()` reaches a Python server's `recv(1, MSG_OOB)`, and Linux's
 * default (out of line) leaves the stream without it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { INTEROP_NEEDS, LINUX_ADDRESS, STACK_ADDRESS, withDevice } from "./_netns.ts";
import { gated, type Requirement } from "../_require.ts";
import type { TcpConn } from "../../mod.ts";

const NEEDS: readonly Requirement[] = [...INTEROP_NEEDS, "python3"];

const CLIENT = `
import socket, time
for i in range(2):
    s = socket.create_connection(("${STACK_ADDRESS}", 80), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.send(b"abc")
    time.sleep(0.05)
    s.send(b"!", socket.MSG_OOB)
    time.sleep(0.05)
    s.send(b"def")
    s.shutdown(socket.SHUT_WR)
    print(s.recv(100).decode())
    s.close()
`;

const SERVER = `
import socket, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("${LINUX_ADDRESS}", 7001))
l.listen(1)
print("listening", flush=True)
c, _ = l.accept()
c.settimeout(5)
oob = None
for _ in range(100):
    try:
        oob = c.recv(1, socket.MSG_OOB)
        break
    except (BlockingIOError, OSError):
        time.sleep(0.02)
data = b""
while True:
    b = c.recv(100)
    if not b:
        break
    data += b
print(oob.decode() if oob else "none", data.decode())
c.close()
`;

async function readAll(conn: TcpConn): Promise<string> {
  const buf = new Uint8Array(100);
  let s = "";
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) return s;
    s += new TextDecoder().decode(buf.subarray(0, n));
  }
}

Deno.test(gated(NEEDS, {
  name:
    "tun urgent data: Linux MSG_OOB into the stack (inline and out of line), and sendUrgent() into Linux",
  async fn() {
    await withDevice({ mode: "tun" }, async (h) => {
      const l = h.stack.listen({ port: 80 });
      const got: string[] = [];
      const serving = (async () => {
        for (let i = 0; i < 2; i++) {
          const conn = await l.accept();
          if (i === 1) conn.setOobInline(false);
          const text = await readAll(conn);
          got.push(i === 1 ? `${text} oob=${String.fromCharCode(conn.readUrgent() ?? 63)}` : text);
          await conn.write(new TextEncoder().encode("ok"));
          conn.close();
        }
      })();
      const r = await h.exec(["/usr/bin/python3", "-c", CLIENT], 20);
      assert.equal(r.code, 0, r.stderr);
      await serving;
      l.close();
      assert.deepEqual(got, ["abc!def", "abcdef oob=!"]);
      // The stack sends urgent data to Linux.
      const server = h.exec(["/usr/bin/python3", "-u", "-c", SERVER], 20);
      for (let i = 0; i < 50; i++) {
        const ss = await h.exec(["ss", "-ltnH", "sport = :7001"], 5);
        if (ss.stdout.trim() !== "") break;
        await new Promise((res) => setTimeout(res, 50));
      }
      const c = await h.stack.connect({ hostname: LINUX_ADDRESS, port: 7001 });
      c.setNoDelay(true);
      await c.write(new TextEncoder().encode("xy"));
      assert.equal(await c.sendUrgent("#".charCodeAt(0)), 1);
      await c.write(new TextEncoder().encode("z"));
      await c.closeWrite();
      const out = await server;
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout.trim().split("\n").at(-1), "# xyz");
      c.close();
    });
  },
}));
