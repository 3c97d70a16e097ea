/**
 * The HTTP service's pages: the status page (interfaces, the socket table in
 * the manner of `ss -tani`, every non-zero counter in the manner of
 * `netstat -s`) as HTML or plain text, and the counters as JSON.
 *
 * @module
 */
import {
  type ConntrackRow,
  formatConntrack,
  formatCounters,
  formatIpv4Address,
  formatIpv6Address,
  formatMac,
  formatSockets,
  type InterfaceStats,
  type MulticastGroupRow,
  type TcpSocketInfo,
} from "../../../mod.ts";

/** One interface as the status page shows it. */
export interface InterfaceSummary {
  /** `tun0`, `eth0`, … */
  readonly name: string;
  /** MTU. */
  readonly mtu: number;
  /** MAC, or null on a raw-IP link. */
  readonly mac: Uint8Array | null;
  /** IPv4 addresses with prefix lengths. */
  readonly ipv4: readonly { readonly address: number; readonly prefixLength: number }[];
  /** IPv6 addresses with prefix lengths and DAD states (absent: none shown). */
  readonly ipv6?: readonly {
    readonly address: Uint8Array;
    readonly prefixLength: number;
    readonly state: string;
  }[];
  /** Traffic. */
  readonly stats: InterfaceStats;
}

/** What the status page shows. */
export interface StatusInfo {
  /** Stack time, µs (the uptime). */
  readonly uptime: number;
  /** The wall-clock time, when known (`Date` header form). */
  readonly date?: string;
  /** Interfaces. */
  readonly interfaces: readonly InterfaceSummary[];
  /** TCP sockets, or undefined without TCP. */
  readonly sockets: readonly TcpSocketInfo[] | undefined;
  /** Tracked connections (`conntrack -L`), when the conntrack plugin is loaded. */
  readonly connections?: readonly ConntrackRow[];
  /** Multicast groups of the interfaces (IGMP, MLD), as `ip maddr` lists them; absent: not shown. */
  readonly groups?: readonly MulticastGroupRow[];
  /** Counters by full name (non-zero ones). */
  readonly counters: Readonly<Record<string, number>>;
}

function interfaceLines(list: readonly InterfaceSummary[]): string {
  if (list.length === 0) return "(no interfaces)";
  return list.map((i) => {
    const addrs = i.ipv4.map((a) => `inet ${formatIpv4Address(a.address)}/${a.prefixLength}`);
    for (const a of i.ipv6 ?? []) {
      // As `ip addr`: the state only when the address is not simply usable.
      const state = a.state === "preferred" ? "" : ` ${a.state}`;
      addrs.push(`inet6 ${formatIpv6Address(a.address)}/${a.prefixLength}${state}`);
    }
    const s = i.stats;
    return [
      `${i.name}: mtu ${i.mtu}${i.mac ? ` ether ${formatMac(i.mac)}` : ""}`,
      ...addrs.map((a) => `    ${a}`),
      `    RX packets ${s.rxPackets} bytes ${s.rxBytes} dropped ${s.rxDropped}`,
      `    TX packets ${s.txPackets} bytes ${s.txBytes} dropped ${s.txDropped}`,
    ].join("\n");
  }).join("\n");
}

/** `ip maddr`-like lines: `eth0  inet 239.1.2.3  exclude {}  users 1`. */
function groupLines(rows: readonly MulticastGroupRow[]): string {
  if (rows.length === 0) return "(none)";
  return rows.map((r) =>
    `${r.ifname}  ${r.family === 4 ? "inet " : "inet6"} ${r.group}  ${r.mode} {${
      r.sources.join(", ")
    }}  users ${r.users}${r.reported ? "" : "  (not reported)"}`
  ).join("\n");
}

function uptime(us: number): string {
  const s = Math.floor(us / 1e6);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}h ${String(m).padStart(2, "0")}m ${String(s % 60).padStart(2, "0")}s`;
}

function sections(info: StatusInfo): [string, string][] {
  const counters = formatCounters({ ...info.counters });
  return [
    ["Interfaces", interfaceLines(info.interfaces)],
    [
      "TCP sockets",
      info.sockets === undefined ? "(TCP is not loaded)" : formatSockets(info.sockets),
    ],
    ...(info.connections === undefined ? [] : [[
      "Tracked connections",
      info.connections.length === 0 ? "(none)" : formatConntrack(info.connections),
    ] as [string, string]]),
    ...(info.groups === undefined ? [] : [["Multicast groups", groupLines(info.groups)]] as [
      string,
      string,
    ][]),
    ["Counters", counters === "" ? "(all zero)" : counters],
  ];
}

function summary(info: StatusInfo): string {
  return `up ${uptime(info.uptime)}` + (info.date === undefined ? "" : `, ${info.date}`);
}

/**
 * The status page as plain text.
 *
 * @example
 * ```ts
 * import { statusText } from "./page.ts";
 * import assert from "node:assert/strict";
 * const text = statusText({ uptime: 61e6, interfaces: [], sockets: [], counters: { "echo.bytes": 5 } });
 * assert.match(text, /^deno-netstack: up 0h 01m 01s$/m);
 * assert.match(text, /^echo:\n {2}bytes 5$/m);
 * ```
 */
export function statusText(info: StatusInfo): string {
  return `deno-netstack: ${summary(info)}\n\n` +
    sections(info).map(([title, body]) => `== ${title}\n${body}\n`).join("\n");
}

/** Escapes text for HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The status page as an HTML document.
 *
 * @example
 * ```ts
 * import { statusHtml } from "./page.ts";
 * import assert from "node:assert/strict";
 * const html = statusHtml({ uptime: 0, interfaces: [], sockets: undefined, counters: { "a<b": 1 } });
 * assert.match(html, /^<!DOCTYPE html>/);
 * assert.ok(html.includes("a&#60;b"));
 * ```
 */
export function statusHtml(info: StatusInfo): string {
  const body = sections(info).map(([title, text]) =>
    // A newline right after <pre> is not rendered (HTML), and keeps each line whole in the source.
    `<h2>${escapeHtml(title)}</h2>\n<pre>\n${escapeHtml(text)}\n</pre>`
  ).join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>deno-netstack status</title>
<style>body{font-family:sans-serif;margin:2em}pre{background:#f4f4f4;padding:1em;overflow-x:auto}</style>
</head>
<body>
<h1>deno-netstack</h1>
<p>${escapeHtml(summary(info))} &middot; <a href="/counters.json">counters.json</a></p>
${body}
</body>
</html>
`;
}

/**
 * The counters as a JSON object, one member per counter, sorted by name.
 *
 * @example
 * ```ts
 * import { countersJson } from "./page.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(JSON.parse(countersJson({ "b.x": 2, "a.y": 1 })), { "a.y": 1, "b.x": 2 });
 * ```
 */
export function countersJson(counters: Readonly<Record<string, number>>): string {
  const sorted: Record<string, number> = {};
  for (const k of Object.keys(counters).sort()) sorted[k] = counters[k]!;
  return JSON.stringify(sorted, null, 2) + "\n";
}
