/**
 * `cli.ts up --join GROUP`: the stack joins the groups on its interface
 * before "ready", the `echo` service answers a datagram sent to one, and a
 * value that is not a multicast group is a usage error.
 */
import assert from "node:assert/strict";
import { runUpWhileReady } from "../cli/_up.ts";
import { SERVICES } from "../../plugins/services/mod.ts";
import type { MulticastGroupsService } from "../../stack/services.ts";
import { runUp } from "../../cli/up.ts";

Deno.test("cli up --join: the groups are joined by ready, and echo answers a datagram to one", async () => {
  let rows: string[] = [];
  let echoed = "";
  const { code, out, err } = await runUpWhileReady(
    ["--driver", "loopback", "--serve", "echo", "--join", "239.1.2.3", "--join", "239.4.5.6"],
    async (stack) => {
      const groups = stack.service<MulticastGroupsService>("igmp.groups")!;
      rows = groups.list().map((r) => `${r.ifname} ${r.group}`);
      // The stack's own socket sends to the group: looped back to the echo socket (IP_MULTICAST_LOOP).
      const conn = stack.listenDatagram({ transport: "udp", hostname: "10.0.0.2" });
      await conn.send(new TextEncoder().encode("ping the group"), {
        hostname: "239.1.2.3",
        port: 7,
      });
      const [data, from] = await conn.receive();
      echoed = `${new TextDecoder().decode(data)} from ${from.hostname}:${from.port}`;
      conn.close();
    },
    { services: SERVICES },
  );
  assert.equal(code, 0, err.join("\n"));
  assert.equal(out[0], "ready eth0 10.0.0.2/24");
  assert.deepEqual(rows, ["eth0 224.0.0.1", "eth0 239.1.2.3", "eth0 239.4.5.6"]);
  assert.equal(echoed, "ping the group from 10.0.0.2:7");
});

Deno.test("cli up --join: an address that is not a multicast group is a usage error (exit 2)", async () => {
  const errors: string[] = [];
  const code = await runUp(["--driver", "loopback", "--join", "10.0.0.9"], {
    print: () => {},
    printError: (l) => errors.push(l),
    handleSignals: false,
  });
  assert.equal(code, 2);
  assert.match(errors.join("\n"), /--join 10\.0\.0\.9 is not a multicast group/);
});
