/**
 * `cli.ts up` with IPv6 addresses (repeatable with IPv4 ones), on the
 * loopback driver (no root): the stack gets both, its services listen on
 * both families, an IPv6 default route is added, and `ss`/`ip`-style
 * listings show IPv6 as `ss` and `ip -6` do.
 */
import assert from "node:assert/strict";
import { runUpWhileReady } from "./_up.ts";
import { SERVICES } from "../../plugins/services/mod.ts";
import type { Stack } from "../../mod.ts";

/** Runs `up` on the loopback driver with the services; `onReady` runs once it is ready. */
function up(args: string[], onReady: (stack: Stack) => Promise<void>) {
  return runUpWhileReady(["--driver", "loopback", ...args], onReady, { services: SERVICES });
}

Deno.test("cli up takes IPv6 --address, --peer-address and --gateway beside IPv4 ones", async () => {
  let rows: string[] = [];
  let routes: string[] = [];
  let echoed = "";
  let echoed4 = "";
  const r = await up([
    "--address",
    "10.0.0.2/24",
    "--address",
    "fd00::2/64",
    "--peer-address",
    "10.0.0.1/24",
    "--peer-address",
    "fd00::1/64",
    "--gateway",
    "fe80::1",
    "--serve",
    "echo",
  ], async (stack) => {
    rows = stack.sockets().map((s) => `${s.state} ${s.local} ${s.remote}`);
    // As `ip route` then `ip -6 route` list them.
    routes = stack.routes().map((x) =>
      `${x.destination}${x.gateway ? ` via ${x.gateway}` : ""} dev ${x.interface} ${x.origin}`
    );
    for (const [hostname, out] of [["fd00::2", "v6"], ["10.0.0.2", "v4"]] as const) {
      const conn = await stack.connect({ hostname, port: 7 });
      await conn.write(new TextEncoder().encode(out));
      const buf = new Uint8Array(2);
      await conn.read(buf);
      if (out === "v6") echoed = new TextDecoder().decode(buf);
      else echoed4 = new TextDecoder().decode(buf);
      conn.close();
    }
  });
  assert.equal(r.code, 0, r.err.join("\n"));
  assert.equal(r.out[0], "ready eth0 10.0.0.2/24 fd00::2/64");
  assert.equal(echoed, "v6");
  assert.equal(echoed4, "v4");
  assert.ok(rows.includes("LISTEN *:7 *:*"), rows.join("\n"));
  assert.deepEqual(routes, [
    "10.0.0.0/24 dev eth0 connected",
    "fd00::/64 dev eth0 connected",
    "fe80::/64 dev eth0 connected", // the link-local address slaac gave eth0, as `ip -6 route`
    "default via fe80::1 dev eth0 static",
  ]);
});

Deno.test("cli up refuses IPv6 mistakes in one line with exit 2", async () => {
  for (
    const [args, message] of [
      [["--address", "fd00::2/129"], /needs a prefix length 0\.\.128/],
      [["--address", "fd00::2"], /needs a prefix length/],
      [["--address", "::1/128"], /not a unicast address/],
      [["--address", "fd00::2/64", "--gateway", "fd00::2"], /the stack's own address/],
      [["--address", "fd00::2/64", "--gateway", "ff02::2"], /not a unicast address/],
    ] as const
  ) {
    const r = await up([...args], () => Promise.resolve());
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.err.join("\n")}`);
    assert.equal(r.err.length, 1, r.err.join("\n"));
    assert.match(r.err[0]!, message);
  }
});
