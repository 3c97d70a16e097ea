/**
 * The services `cli.ts up --serve` can run: echo, discard, chargen,
 * daytime (RFC 862-867) and a small HTTP/1.1 status server. Each is a
 * plugin of layer "service" that listens through `tcp.sockets` and/or
 * `udp.sockets` once the stack is ready and closes everything at teardown;
 * {@linkcode SERVICES} names them for `--serve`.
 *
 * @example
 * ```ts
 * import { SERVICES } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(Object.keys(SERVICES), ["echo", "discard", "chargen", "daytime", "http", "iperf3"]);
 * assert.equal(SERVICES.http!.plugins[0]!.manifest.layer, "service");
 * ```
 *
 * @module
 */
import type { ProtocolPlugin } from "../../mod.ts";
import { echoPlugin } from "./echo/mod.ts";
import { discardPlugin } from "./discard/mod.ts";
import { chargenPlugin } from "./chargen/mod.ts";
import { daytimePlugin } from "./daytime/mod.ts";
import { httpPlugin } from "./http/mod.ts";
import { iperf3Plugin } from "./iperf3/mod.ts";

export { chargenPlugin, daytimePlugin, discardPlugin, echoPlugin, httpPlugin, iperf3Plugin };

/** One service for `up --serve`: a description and the plugins it adds (as cli/up.ts's `UpService`). */
export interface ServiceEntry {
  /** One line for `--help`. */
  readonly description: string;
  /** The plugins it adds to the stack. */
  readonly plugins: readonly ProtocolPlugin[];
}

/**
 * Services by `--serve` name; structurally a `ServiceRegistry` of cli/up.ts.
 *
 * @example
 * ```ts
 * import { SERVICES } from "./mod.ts";
 * import assert from "node:assert/strict";
 * assert.equal(SERVICES.echo!.plugins[0]!.manifest.name, "echo");
 * ```
 */
export const SERVICES: Readonly<Record<string, ServiceEntry>> = Object.freeze({
  echo: { description: "Echo (RFC 862), TCP and UDP port 7", plugins: [echoPlugin] },
  discard: {
    description: "Discard (RFC 863), TCP and UDP port 9, counts every byte",
    plugins: [discardPlugin],
  },
  chargen: {
    description: "Character Generator (RFC 864), TCP and UDP port 19",
    plugins: [chargenPlugin],
  },
  daytime: {
    description: "Daytime (RFC 867), TCP and UDP port 13, UTC from the real clock",
    plugins: [daytimePlugin],
  },
  http: {
    description: "HTTP/1.1 status page on TCP port 80: GET / and /counters.json",
    plugins: [httpPlugin],
  },
  iperf3: {
    description: "iperf3-compatible server on TCP and UDP port 5201 (TCP/UDP tests, -R, -P)",
    plugins: [iperf3Plugin],
  },
});
