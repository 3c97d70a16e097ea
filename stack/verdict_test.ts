import assert from "node:assert/strict";
import { Dispatcher } from "./dispatcher.ts";
import {
  ACCEPT,
  CONSUMED,
  type HookVerdict,
  NEXT,
  type ProtocolHandlers,
  type RxVerdict,
  type Verdict,
} from "./manifest.ts";
import { testPlugin } from "../tests/_harness.ts";
import type { DriverPort, LinkDriver } from "./driver.ts";
import type { PacketBuffer } from "./packet.ts";

class NullDriver implements LinkDriver {
  readonly linkType = 1;
  readonly mtu = 1500;
  attach(_port: DriverPort): void {}
  transmit(pkt: PacketBuffer): void {
    pkt.release();
  }
  close(): void {}
}

Deno.test("Verdict is closed: only its constants and drop reasons type-check", () => {
  // Never called: the checker alone decides (deno check / deno test check it).
  function _typeLevel(): void {
    // @ts-expect-error a number that is no verdict
    const _n: Verdict = 42;
    // @ts-expect-error a receive handler does not ACCEPT: it hands on with rx.next()
    const _rx: RxVerdict = ACCEPT;
    // @ts-expect-error a hook does not say NEXT: it ACCEPTs
    const _hook: HookVerdict = NEXT;
    // @ts-expect-error a reason the plugin did not list in its reason type
    const _reason: RxVerdict<"truncated"> = "bad_checksum";
    // @ts-expect-error a receive handler typed against the closed verdict
    const _h: ProtocolHandlers = { receive: () => 3 };
    const ok: RxVerdict<"truncated">[] = [CONSUMED, NEXT, "truncated"];
    const okHook: HookVerdict<"blocked">[] = [CONSUMED, ACCEPT, "blocked"];
    void [ok, okHook];
  }
  assert.equal(typeof _typeLevel, "function");
});

Deno.test("Verdict NEXT and ACCEPT are distinct values (hand on vs. let pass)", () => {
  assert.notEqual(NEXT as number, ACCEPT as number);
  assert.deepEqual(new Set<number>([CONSUMED, NEXT, ACCEPT]).size, 3);
});

Deno.test("Verdict NEXT from a hook drops the packet as bad_verdict_1 instead of accepting it", () => {
  const hooker = testPlugin(
    { name: "confused", hooks: [{ point: "ingress" }] },
    () => ({ hook: () => NEXT as unknown as HookVerdict }),
  );
  const sink = testPlugin(
    { name: "sink", binds: [{ table: "link", key: 1 }] },
    () => ({ receive: () => CONSUMED }),
  );
  const d = new Dispatcher({ plugins: [hooker, sink] });
  d.addInterface({ driver: new NullDriver() });
  d.inject(0, new Uint8Array([1]));
  assert.deepEqual(d.counters.snapshot(), { "confused.ingress.bad_verdict_1": 1 });
  d.close();
});

Deno.test("Verdict ACCEPT from a receive handler is a bad verdict, not a hand-on", () => {
  const p = testPlugin(
    { name: "confused", binds: [{ table: "link", key: 1 }] },
    () => ({ receive: () => ACCEPT as unknown as RxVerdict }),
  );
  const d = new Dispatcher({ plugins: [p] });
  d.addInterface({ driver: new NullDriver() });
  d.inject(0, new Uint8Array([1]));
  assert.deepEqual(d.counters.snapshot(), { "confused.rx.bad_verdict_2": 1 });
  d.close();
});
