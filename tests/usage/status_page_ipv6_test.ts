/**
 * The http service's status page lists every address of an interface, as
 * `ip addr` does: IPv6 ones too (`inet6 fd00::2/64`, the link-local one,
 * `tentative` while duplicate address detection runs). It listed only IPv4,
 * so `up --address fd00::2/64 --serve http` showed none of the addresses a
 * user had just curled it on (session 15, over TUN).
 */
import assert from "node:assert/strict";
import { createStack, SECOND, VirtualNetwork } from "../../mod.ts";
import { httpPlugin } from "../../plugins/services/mod.ts";

Deno.test("the status page lists IPv6 addresses, with the DAD state while tentative", async () => {
  const net = new VirtualNetwork({ seed: 1 });
  const link = net.link();
  const server = net.addNode(
    createStack({ clock: net.clock, seed: 1, extraPlugins: [httpPlugin] }),
  );
  const client = net.addNode(createStack({ clock: net.clock, seed: 2 }));
  server.addInterface({ driver: link.a, addresses: ["10.0.0.2/24", "fd00::2/64"] });
  client.addInterface({ driver: link.b, addresses: ["10.0.0.1/24", "fd00::1/64"] });
  const page = (host: string) =>
    net.run(async () => {
      const r = await client.fetch(`http://${host}/`, { headers: { accept: "text/plain" } });
      return await r.text();
    });
  const early = await page("10.0.0.2");
  assert.match(early, /^ {4}inet 10\.0\.0\.2\/24$/m);
  assert.match(early, /^ {4}inet6 fd00::2\/64 tentative$/m, early);
  await net.run(() => new Promise<void>((r) => net.at(net.now() + 3 * SECOND, r))); // DAD done
  const later = await page("[fd00::2]");
  const eth0 = later.slice(later.indexOf("== Interfaces"), later.indexOf("== TCP sockets"));
  assert.match(
    eth0,
    /^ {4}inet 10\.0\.0\.2\/24\n {4}inet6 fd00::2\/64\n {4}inet6 fe80::[0-9a-f:]+\/64\n/m,
  );
  server.close();
  client.close();
  net.close();
});
