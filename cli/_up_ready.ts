/**
 * What `cli.ts up` waits for before it says "ready": Duplicate Address
 * Detection on the stack's IPv6 addresses (a tentative address is not
 * usable yet, as on Linux), then one answered ping to the peer, IPv4 or
 * IPv6, so caches are warm and a broken setup shows before "ready".
 *
 * @module
 */
import type { Stack } from "../mod.ts";
import type { RealTimeRunner } from "../drivers/tun/mod.ts";
import { IpAddress } from "../stack/wire/ip_address.ts";

/** How long `up` waits for DAD at most (Linux's default: one probe, 1 s). */
const DAD_WAIT_MS = 5_000;
const DAD_POLL_MS = 20;

/** How many IPv6 addresses of `stacks` are tentative. */
function tentative(stacks: readonly Stack[]): number {
  let n = 0;
  for (const s of stacks) {
    for (const i of s.interfaces.list()) n += i.ipv6.filter((a) => a.state === "tentative").length;
  }
  return n;
}

/**
 * Waits (real time, at most 5 s) until no IPv6 address of `stacks` is
 * tentative; warns about addresses that failed DAD or are still tentative.
 *
 * @example
 * ```ts
 * import { waitForAddresses } from "./_up_ready.ts";
 * import assert from "node:assert/strict";
 * assert.equal(typeof waitForAddresses, "function");
 * ```
 */
export async function waitForAddresses(
  stacks: readonly Stack[],
  runner: RealTimeRunner,
  printError: (l: string) => void,
): Promise<void> {
  for (let waited = 0; tentative(stacks) > 0 && waited < DAD_WAIT_MS; waited += DAD_POLL_MS) {
    runner.kick();
    await runner.delay(DAD_POLL_MS); // not setTimeout: a device's blocking wait ends for it
  }
  for (const s of stacks) {
    for (const i of s.interfaces.list()) {
      for (const a of i.ipv6) {
        if (a.state !== "tentative" && a.state !== "duplicate") continue;
        const text = IpAddress.v6(a.address).toString();
        printError(
          `cli.ts up: warning: ${s.name} ${i.name} ${text}/${a.prefixLength} is ${a.state}` +
            (a.state === "duplicate" ? " (another node uses it: DAD failed)" : ""),
        );
      }
    }
  }
}

/**
 * Pings `peer` (3 tries of 1 s), IPv4 or IPv6; warns when it does not answer.
 *
 * @example
 * ```ts
 * import { checkPeer } from "./_up_ready.ts";
 * import assert from "node:assert/strict";
 * assert.equal(typeof checkPeer, "function");
 * ```
 */
export async function checkPeer(
  stack: Stack,
  runner: RealTimeRunner,
  peer: string,
  printError: (l: string) => void,
): Promise<void> {
  let last = "";
  for (let i = 0; i < 3; i++) {
    const reply = stack.ping(peer, { timeout: 1000 });
    runner.kick(); // the ping armed a timer between batches
    try {
      await reply;
      return;
    } catch (err) {
      last = (err as Error).message;
    }
  }
  printError(`cli.ts up: warning: peer ${peer} does not answer ping (${last}); going on`);
}
