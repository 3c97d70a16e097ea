/**
 * `waitPeerIpv6Ready` (cli/_netns.ts), which `up` and `gateway` run for
 * each IPv6 `--peer-address` before they say ready: it returns once Linux
 * receives at the address, and fails at once, naming the cause, when
 * Linux's DAD found the address taken. A veth pair inside a namespace the
 * test makes and deletes.
 */
import assert from "node:assert/strict";
import { addNetns, deleteNetns, ip, waitPeerIpv6Ready } from "../../cli/_netns.ts";
import { INTEROP_NEEDS, uniqueNetnsName } from "./_netns.ts";
import { gated } from "../_require.ts";

Deno.test(gated(INTEROP_NEEDS, {
  name:
    "waitPeerIpv6Ready: ready after Linux's DAD; a duplicate fails with its cause, not a timeout",
  async fn() {
    const netns = uniqueNetnsName("peer6");
    await addNetns(netns);
    try {
      const ns = { netns };
      await ip(["link", "add", "va", "type", "veth", "peer", "name", "vb"], ns);
      await ip(["link", "set", "va", "up"], ns);
      await ip(["link", "set", "vb", "up"], ns);
      // va has fd00::9 at once; vb asks the link (DAD, ~1 s) and va answers: taken.
      await ip(["-6", "addr", "add", "fd00::9/64", "dev", "va", "nodad"], ns);
      await ip(["-6", "addr", "add", "fd00:0:0::a/64", "dev", "vb"], ns);
      await ip(["-6", "addr", "add", "fd00::9/64", "dev", "vb"], ns);
      await waitPeerIpv6Ready("va", "fd00::9/64", { netns, seconds: 5 });
      // Given as written, found as iproute2 prints it (fd00::a), after DAD.
      await waitPeerIpv6Ready("vb", "fd00:0:0::a/64", { netns, seconds: 5 });
      const t0 = performance.now();
      await assert.rejects(
        waitPeerIpv6Ready("vb", "fd00::9", { netns, seconds: 5 }),
        /Linux's fd00::9 on vb is a duplicate/,
      );
      assert.ok(performance.now() - t0 < 4_000, "the duplicate is told, not waited out");
      await assert.rejects(
        waitPeerIpv6Ready("va", "fd00::77", { netns, seconds: 0.1 }),
        /Linux's fd00::77 on va not ready after 0.1 s/,
      );
      await assert.rejects(waitPeerIpv6Ready("va", "10.0.0.1/24", ns), TypeError);
    } finally {
      await deleteNetns(netns);
    }
  },
}));
