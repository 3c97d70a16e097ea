/**
 * The IGMP proxy when R loses an interface (`Stack.removeInterface`): a
 * removed downstream's members no longer count upstream (the proxy leaves
 * there) and nothing more reaches or leaves that link; a removed upstream
 * takes the proxy's upstream memberships with it and it forwards nothing
 * upstream. The captures are clean.
 */
import assert from "node:assert/strict";
import { assertTsharkClean } from "../_tshark.ts";
import { igmpFrames, makeProxyNet, SECOND, udpFrames } from "./_proxy.ts";

const GROUP = "239.1.2.3";
const TO_IN = 3;

/** How many of `frames` came from the MAC `mac`. */
function sentBy(frames: Uint8Array[], mac: Uint8Array): number {
  return frames.filter((f) => mac.every((b, i) => f[6 + i] === b)).length;
}

Deno.test("mcproxy: a removed downstream interface's members are left upstream, and nothing more goes out on it", async () => {
  const n = makeProxyNet();
  n.a.groups.join(n.a.ifindex, GROUP);
  n.runFor(SECOND);
  n.s.send(GROUP, "in");
  n.runFor(100_000);
  assert.deepEqual(n.a.take(), ["in"]);
  const mac = n.r.interfaces.byName("lan0")!.mac!;
  const fromR = sentBy(n.lan0.frames(), mac);
  n.r.removeInterface("lan0");
  n.runFor(SECOND);
  // The only member was on lan0: the proxy leaves upstream at once (TO_IN({})).
  const upLeave = igmpFrames(n.up.frames()).filter((f) =>
    f.src === "10.0.0.1" && f.what.includes(`${TO_IN} ${GROUP}`)
  );
  assert.ok(upLeave.length >= 1, "the proxy left upstream");
  n.s.send(GROUP, "after");
  n.runFor(200 * SECOND); // queries would be due on lan0 by now
  assert.deepEqual(n.a.take(), []);
  assert.equal(sentBy(n.lan0.frames(), mac), fromR, "no query, report or datagram from R");
  assert.deepEqual(udpFrames(n.lan0.frames()).map((s) => s.split(" ").pop()), ["in"]);
  assert.deepEqual(n.r.multicastGroups().filter((g) => g.ifname === "lan0"), []);
  for (const cap of [n.up, n.lan0, n.lan1]) await assertTsharkClean(cap.bytes());
  n.finish();
});

Deno.test("mcproxy: a removed upstream interface takes the proxy's memberships with it; nothing is sent upstream again", async () => {
  const n = makeProxyNet();
  n.c.groups.join(n.c.ifindex, GROUP);
  n.runFor(SECOND);
  assert.ok(n.r.multicastGroups().some((g) => g.ifname === "up0" && g.group === GROUP));
  const mac = n.r.interfaces.byName("up0")!.mac!;
  const fromR = sentBy(n.up.frames(), mac);
  n.r.removeInterface("up0");
  assert.deepEqual(n.r.multicastGroups().filter((g) => g.ifname === "up0"), []);
  n.c.groups.leave(n.c.ifindex, GROUP);
  n.a.groups.join(n.a.ifindex, "239.9.9.9");
  n.c.send(GROUP, "down");
  n.runFor(200 * SECOND);
  assert.equal(sentBy(n.up.frames(), mac), fromR, "nothing leaves on the removed upstream link");
  // Downstream goes on: queries still go out on lan0 and lan1.
  assert.ok(igmpFrames(n.lan0.frames()).some((f) => f.type === 0x11 && f.src === "10.1.0.1"));
  for (const cap of [n.up, n.lan0, n.lan1]) await assertTsharkClean(cap.bytes());
  n.finish();
});
