/**
 * `cli.ts up --join` and the services (issue #11): a stack that joined a
 * group answers, with its `echo` service, datagrams sent to that group, and
 * its HTTP status page lists the groups it joined.
 */
import assert from "node:assert/strict";
import { ms } from "../_harness.ts";
import { joinGroups } from "../../cli/_join.ts";
import {
  bytes,
  CLIENT,
  makeServiceEnv,
  ResponseReader,
  SERVER,
  withServiceEnv,
  writeAll,
} from "../services/_services.ts";

const GROUP = "239.1.2.3";

Deno.test("echo service answers a datagram sent to a group the stack joined (--join)", async () => {
  await withServiceEnv(makeServiceEnv({ services: ["echo"] }), async (env) => {
    const ifname = env.server.interfaces.list()[0]!.name;
    assert.deepEqual(joinGroups(env.server, ifname, [GROUP]), [`joined ${GROUP} on ${ifname}`]);
    await env.run(async () => {
      await new Promise((r) => setTimeout(r, 0));
      const conn = env.client.listenDatagram({ transport: "udp", hostname: CLIENT });
      await conn.send(bytes("who is in the group?"), { hostname: GROUP, port: 7 });
      const [data, from] = await conn.receive();
      assert.equal(new TextDecoder().decode(data), "who is in the group?");
      assert.deepEqual([from.hostname, from.port], [SERVER, 7]);
      conn.close();
    });
    assert.equal(env.counter("echo.bytes"), 20);
  });
});

Deno.test("echo service ignores a group the stack did not join", async () => {
  await withServiceEnv(makeServiceEnv({ services: ["echo"] }), async (env) => {
    const conn = env.client.listenDatagram({ transport: "udp", hostname: CLIENT });
    await conn.send(bytes("anyone?"), { hostname: "239.9.9.9", port: 7 });
    env.runFor(ms(100));
    assert.equal(env.counter("echo.bytes"), 0);
    conn.close();
  });
});

Deno.test("http status page lists the multicast groups of the interfaces", async () => {
  await withServiceEnv(makeServiceEnv({ services: ["http"] }), async (env) => {
    const ifname = env.server.interfaces.list()[0]!.name;
    joinGroups(env.server, ifname, [GROUP]);
    const body = await env.run(async () => {
      const conn = await env.client.connect({ hostname: SERVER, port: 80 });
      await writeAll(
        conn,
        bytes(`GET / HTTP/1.1\r\nHost: ${SERVER}\r\nAccept: text/plain\r\n\r\n`),
      );
      const res = await new ResponseReader(conn).next();
      conn.close();
      return res.body;
    });
    assert.match(body, /^== Multicast groups$/m);
    assert.match(
      body,
      new RegExp(`^${ifname} {2}inet {2}${GROUP} {2}exclude \\{\\} {2}users 1$`, "m"),
    );
    assert.match(
      body,
      new RegExp(`^${ifname} {2}inet {2}224\\.0\\.0\\.1 .*\\(not reported\\)$`, "m"),
    );
  });
});
