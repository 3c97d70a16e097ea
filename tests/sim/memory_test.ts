/**
 * Memory per idle virtual host (issue 19): one interface, ARP, IPv4, ICMP,
 * UDP and TCP, no sockets, at most 64 KiB of heap (measured in a child
 * process that can force garbage collection: `_idle_memory.ts`).
 *
 * @module
 */
import assert from "node:assert/strict";

Deno.test("an idle virtual host costs at most 64 KiB of heap (1,000 hosts on one switch)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-check",
      "--v8-flags=--expose-gc",
      new URL("./_idle_memory.ts", import.meta.url).pathname,
      "1000",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const { bytesPerHost } = JSON.parse(text) as { bytesPerHost: number };
  assert.ok(bytesPerHost > 1024, `implausibly small: ${bytesPerHost} B`);
  assert.ok(bytesPerHost <= 64 * 1024, `${bytesPerHost} B per idle host`);
});
