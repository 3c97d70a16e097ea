import assert from "node:assert/strict";
import type { ProtocolPlugin } from "../../mod.ts";
import { conntrackPlugin, nptv6Plugin } from "../../mod.ts";
import { VirtualNetwork } from "../../drivers/loopback/network.ts";
import { Capture, EnvBase, pluginsWith } from "../_harness.ts";
import { rows } from "./_conntrack.ts";

/** The NPTv6 network of tests/nptv6 (raw-IP links) with conntrack on R, loaded in `order`. */
function nptWithConntrack(order: readonly ProtocolPlugin[]) {
  const net = new VirtualNetwork({ seed: 6296 });
  const base = new EnvBase(net, new Capture({ linkType: 101 }));
  const noMld = (l: ReturnType<typeof pluginsWith>) =>
    l.filter((e) => e.plugin.manifest.name !== "mld");
  const npt = { inside: "fd01:203:405::/48", outside: "2001:db8:1::/48", interface: "eth1" };
  const h1 = base.newStack("h1", noMld(pluginsWith()));
  const r = base.newStack("r", noMld(pluginsWith({ nptv6: npt }, order)));
  const h3 = base.newStack("h3", noMld(pluginsWith()));
  const a = net.link({ name: "inside", linkType: 101 });
  const b = net.link({ name: "outside", linkType: 101 });
  h1.addInterface({ name: "eth0", driver: a.a, addresses: ["fd01:203:405:1::10/64"] });
  r.addInterface({ name: "eth0", driver: a.b, addresses: ["fd01:203:405:1::1/64"] });
  r.addInterface({ name: "eth1", driver: b.a, addresses: ["2001:db8:ff::1/64"] });
  h3.addInterface({ name: "eth0", driver: b.b, addresses: ["2001:db8:ff::30/64"] });
  h1.addRoute("::/0", { gateway: "fd01:203:405:1::1" });
  h3.addRoute("2001:db8:1::/48", { gateway: "2001:db8:ff::1" });
  r.setForwarding(true, 6);
  net.runFor(0);
  return Object.assign(base, { h1, r, h3 });
}

for (const order of [[conntrackPlugin, nptv6Plugin], [nptv6Plugin, conntrackPlugin]]) {
  const names = order.map((p) => p.manifest.name).join(", ");
  Deno.test(`conntrack + nptv6 (loaded ${names}): conntrack sees the inside address both ways; TCP across is tracked`, async () => {
    const n = nptWithConntrack(order);
    const hooks = n.r.describe().hooks;
    assert.deepEqual(hooks.prerouting, ["nptv6", "conntrack"]);
    assert.deepEqual(hooks.postrouting, ["conntrack", "nptv6"]);
    const l = n.h3.listen({ hostname: "2001:db8:ff::30", port: 9 });
    const [c, s] = await n.run(() =>
      Promise.all([n.h1.connect({ hostname: "2001:db8:ff::30", port: 9 }), l.accept()])
    );
    assert.deepEqual(rows(n.r), [
      "tcp ESTABLISHED fd01:203:405:1::10:" + c.localAddr.port +
      ">2001:db8:ff::30:9 2001:db8:ff::30:9>fd01:203:405:1::10:" + c.localAddr.port +
      " [ASSURED]",
    ]);
    assert.equal(n.r.counters.get("conntrack.track.invalid").value, 0);
    c.close();
    s.close();
    l.close();
    n.runFor(1_000_000);
    n.finish();
  });
}
