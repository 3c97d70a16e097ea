/**
 * `cli.ts decode FILE`: prints a pcap or pcapng capture one line per packet,
 * like `tcpdump -n`, with the stack's own parsers (`stack/wire/pretty.ts`
 * for the line, `stack/wire/decode.ts` for `-v`, every header field).
 * {@linkcode runDecode} is the whole command; {@linkcode DECODE_HELP}
 * documents it.
 *
 * Also the capture filter language shared with `replay --filter`:
 * {@linkcode compileFilter} and {@linkcode FILTER_HELP}.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { CaptureReader, CaptureReaderSync, type CaptureRecord } from "../drivers/pcapfile/mod.ts";
import { formatIpv4Address, parseIpv4Address, parseIpv6Address } from "../stack/wire/address.ts";
import { formatIpv6Address } from "../stack/wire/address.ts";
import { type DecodedFrame, decodeFrame, formatDecodedLayers } from "../stack/wire/decode.ts";
import { describeFrame } from "../stack/wire/pretty.ts";
import { ProgressBar } from "./_progress.ts";
import { writeLine } from "./_common.ts";

/**
 * The filter language, for help texts.
 *
 * @example
 * ```ts
 * import { FILTER_HELP } from "./decode.ts";
 * import assert from "node:assert/strict";
 * assert.match(FILTER_HELP, /port N/);
 * ```
 */
export const FILTER_HELP = `Filter expressions (--filter), a small subset of tcpdump's:
  arp  ip  ip6  icmp  icmp6  igmp  udp  tcp
                      the packet carries that protocol (ip is IPv4)
  host ADDR           ADDR (IPv4 or IPv6) is its source or destination;
                      for ARP, the sender or target protocol address
  src host ADDR, dst host ADDR
  port N              N is its TCP or UDP source or destination port
  src port N, dst port N
  not X   X and Y   X or Y   ( X )
                      also written !, &&, ||; "not" binds tightest, then
                      "and", then "or"
  Only the packet's own headers count: the datagram quoted inside an ICMP
  error does not match host or port (as in tcpdump).
  Example: "tcp and port 80 and not host 10.0.0.1"`;

/** Help text of `decode`. */
export const DECODE_HELP = `Usage: deno run --allow-read cli.ts decode FILE [options]

Prints a pcap or pcapng capture one line per packet, like tcpdump -n: time,
addresses and ports, protocol, TCP flags, sequence and acknowledgment numbers
(absolute, as tcpdump -S), lengths, ICMP/ICMPv6/IGMP types, ARP who-has and
is-at. The parsers are the stack's own. FILE "-" reads standard input.

Options:
  -v, --verbose     also print every header field, one header per line
  -c, --count N     stop after N packets (those the filter keeps)
  --filter EXPR     only packets matching EXPR (see below)
  -e, --link        print the link-layer header too (tcpdump -e)
  --time MODE       abs: time of day, UTC (default); rel: seconds since the
                    first packet; epoch: seconds since 1970; none
  --help            this text

${FILTER_HELP}

Exit status: 0; 1 when the capture is corrupt or cut off (the packets before
the damage are printed, and the error names its byte offset); 2 for bad
options.

Example:
  deno run --allow-read cli.ts decode capture.pcapng --filter "tcp and port 80" -c 20
`;

// ---- filter ----------------------------------------------------------------------

/** A compiled filter: does this decoded frame match? */
export type FrameFilter = (frame: DecodedFrame) => boolean;

const PROTOCOL_LAYERS: Readonly<Record<string, string>> = {
  arp: "arp",
  ip: "ipv4",
  ip6: "ipv6",
  icmp: "icmp",
  icmp6: "icmp6",
  igmp: "igmp",
  udp: "udp",
  tcp: "tcp",
};

function tokenize(expr: string): string[] {
  const tokens: string[] = [];
  const re = /\s*(\(|\)|!|&&|\|\||[^\s()!&|]+)/y;
  let at = 0;
  while (at < expr.length) {
    if (/^\s*$/.test(expr.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(expr);
    if (m === null) {
      throw new SyntaxError(`Cannot parse filter: unexpected "${expr.slice(at).trim()}"`);
    }
    tokens.push(m[1]!);
    at = re.lastIndex;
  }
  return tokens;
}

/** Canonical text of an address, as the decoder prints it. */
function canonicalAddress(s: string): string | null {
  const v4 = parseIpv4Address(s);
  if (v4 !== null) return formatIpv4Address(v4);
  const v6 = parseIpv6Address(s);
  if (v6 !== null) return formatIpv6Address(v6);
  return null;
}

/**
 * Compiles a filter expression (see {@linkcode FILTER_HELP}).
 *
 * @param expr The expression, e.g. `"tcp and port 80"`.
 * @returns A predicate over {@linkcode DecodedFrame}s.
 * @throws {SyntaxError} For a malformed expression, naming the problem.
 *
 * @example
 * ```ts
 * import { compileFilter } from "./decode.ts";
 * import { decodeFrame } from "../stack/wire/decode.ts";
 * import assert from "node:assert/strict";
 * const udp = new Uint8Array([
 *   0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
 *   0x13, 0x88, 0, 53, 0, 8, 0, 0,
 * ]);
 * const f = decodeFrame(udp, 101);
 * assert.ok(compileFilter("udp and port 53")(f));
 * assert.ok(compileFilter("host 10.0.0.2 and not tcp")(f));
 * assert.ok(!compileFilter("src port 53 or arp")(f));
 * assert.throws(() => compileFilter("port"), SyntaxError);
 * ```
 */
export function compileFilter(expr: string): FrameFilter {
  const tokens = tokenize(expr);
  let i = 0;
  const peek = () => tokens[i];
  const fail = (what: string): never => {
    throw new SyntaxError(`Cannot parse filter "${expr}": ${what}`);
  };

  function orExpr(): FrameFilter {
    let left = andExpr();
    while (peek() === "or" || peek() === "||") {
      i++;
      const l = left;
      const r = andExpr();
      left = (f) => l(f) || r(f);
    }
    return left;
  }
  function andExpr(): FrameFilter {
    let left = notExpr();
    while (peek() === "and" || peek() === "&&") {
      i++;
      const l = left;
      const r = notExpr();
      left = (f) => l(f) && r(f);
    }
    return left;
  }
  function notExpr(): FrameFilter {
    if (peek() === "not" || peek() === "!") {
      i++;
      const inner = notExpr();
      return (f) => !inner(f);
    }
    return primary();
  }
  function primary(): FrameFilter {
    const t = tokens[i++];
    if (t === undefined) return fail("the expression ends too early");
    if (t === "(") {
      const inner = orExpr();
      if (tokens[i++] !== ")") fail('missing ")"');
      return inner;
    }
    const layer = PROTOCOL_LAYERS[t];
    if (layer !== undefined) return (f) => f.protocols.includes(layer);
    let dir: "src" | "dst" | "any" = "any";
    let kind = t;
    if (t === "src" || t === "dst") {
      dir = t;
      kind = tokens[i++] ?? fail(`"${t}" needs "host" or "port" after it`);
    }
    if (kind === "host") {
      const arg = tokens[i++] ?? fail('"host" needs an address');
      const a = canonicalAddress(arg) ?? fail(`"${arg}" is not an IPv4 or IPv6 address`);
      return (f) => (dir !== "dst" && f.src === a) || (dir !== "src" && f.dst === a);
    }
    if (kind === "port") {
      const arg = tokens[i++] ?? fail('"port" needs a number');
      const n = Number(arg);
      if (!/^\d+$/.test(arg) || n > 65535) fail(`"${arg}" is not a port number`);
      return (f) => (dir !== "dst" && f.srcPort === n) || (dir !== "src" && f.dstPort === n);
    }
    return fail(
      `unknown word "${kind}" (expected a protocol, host, port, src, dst, not, or "(")`,
    );
  }

  if (tokens.length === 0) fail("it is empty");
  const f = orExpr();
  if (i < tokens.length) fail(`unexpected "${tokens[i]}"`);
  return f;
}

// ---- the command -----------------------------------------------------------------------

/** Options of {@linkcode runDecode}, for tests and embedding. */
export interface DecodeOptions {
  /** Where packet lines go (default: buffered standard output). */
  readonly print?: (line: string) => void;
  /** Where errors and warnings go (default standard error). */
  readonly printError?: (line: string) => void;
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, "0");
}

function formatTime(rec: CaptureRecord, mode: string, first: number): string {
  switch (mode) {
    case "none":
      return "";
    case "epoch":
      return `${rec.seconds}.${pad(Math.floor(rec.nanoseconds / 1000), 6)} `;
    case "rel": {
      const d = rec.timestamp - first;
      const s = Math.floor(Math.abs(d) / 1e6);
      return `${d < 0 ? "-" : ""}${s}.${pad(Math.abs(d) % 1e6, 6)} `;
    }
    default: {
      const day = ((rec.seconds % 86400) + 86400) % 86400;
      return `${pad(Math.floor(day / 3600), 2)}:${pad(Math.floor(day / 60) % 60, 2)}:${
        pad(day % 60, 2)
      }.${pad(Math.floor(rec.nanoseconds / 1000), 6)} `;
    }
  }
}

class StdoutLines {
  #buf: string[] = [];
  #size = 0;
  push(line: string): void {
    this.#buf.push(line);
    this.#size += line.length + 1;
    if (this.#size >= 65536) this.flush();
  }
  flush(): void {
    if (this.#buf.length === 0) return;
    const text = this.#buf.join("\n");
    this.#buf = [];
    this.#size = 0;
    writeLine(Deno.stdout, text);
  }
}

function writeError(line: string): void {
  writeLine(Deno.stderr, line);
}

/**
 * Runs `decode` with `args`; returns the exit code (0 ok, 1 corrupt or
 * unreadable capture, 2 bad options).
 *
 * @example
 * ```ts
 * import { runDecode } from "./decode.ts";
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * const code = await runDecode(
 *   [new URL("../tests/fixtures/pcaps/linux-probes/tun-ping4.pcap", import.meta.url).pathname, "--filter", "icmp", "-c", "1", "--time", "none"],
 *   { print: (l) => lines.push(l) },
 * );
 * assert.equal(code, 0);
 * assert.deepEqual(lines, ["IP 10.77.0.1 > 10.77.0.2: ICMP echo request, id 1584, seq 1, length 64"]);
 * ```
 */
export async function runDecode(args: string[], options: DecodeOptions = {}): Promise<number> {
  const out = options.print === undefined ? new StdoutLines() : null;
  const print = options.print ?? ((l: string) => out!.push(l));
  const printError = options.printError ?? writeError;
  let v;
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        verbose: { type: "boolean", short: "v", default: false },
        count: { type: "string", short: "c" },
        filter: { type: "string" },
        link: { type: "boolean", short: "e", default: false },
        time: { type: "string", default: "abs" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    v = parsed.values;
    positionals = parsed.positionals;
  } catch (err) {
    printError(`error: ${(err as Error).message}\nRun "decode --help" for the options.`);
    return 2;
  }
  if (v.help) {
    print(DECODE_HELP);
    out?.flush();
    return 0;
  }
  const usage = (m: string) => {
    printError(`error: ${m}\nRun "decode --help" for the options.`);
    return 2;
  };
  if (positionals.length !== 1) return usage("give exactly one capture FILE");
  let count = Infinity;
  if (v.count !== undefined) {
    count = Number(v.count);
    if (!Number.isInteger(count) || count < 0) return usage(`--count must be a whole number`);
  }
  if (!["abs", "rel", "epoch", "none"].includes(v.time!)) {
    return usage(`--time must be abs, rel, epoch or none, not "${v.time}"`);
  }
  let filter: FrameFilter | null = null;
  if (v.filter !== undefined) {
    try {
      filter = compileFilter(v.filter);
    } catch (err) {
      return usage((err as Error).message);
    }
  }
  const path = positionals[0]!;
  const onWarning = (w: Error) => printError(`warning: ${w.message}`);
  let reader: CaptureReaderSync | CaptureReader;
  let size = 0;
  try {
    if (path === "-") reader = new CaptureReader(Deno.stdin.readable, { onWarning });
    else {
      size = Deno.statSync(path).size;
      reader = CaptureReaderSync.open(path, { onWarning });
    }
  } catch (err) {
    printError(`error: cannot open ${path}: ${(err as Error).message}`);
    return 1;
  }
  const bar = new ProgressBar({ total: size, label: "decode" });
  let shown = 0;
  let first: number | null = null;
  try {
    for (let n = 0; shown < count; n++) {
      const rec = reader instanceof CaptureReaderSync ? reader.next() : await reader.next();
      if (rec === null) break;
      first ??= rec.timestamp;
      if ((n & 1023) === 1023 && out !== null) bar.update(rec.fileOffset, `${n + 1} packets`);
      const decoded = filter !== null || v.verbose ? decodeFrame(rec.data, rec.linkType) : null;
      if (filter !== null && !filter(decoded!)) continue;
      shown++;
      const line = describeFrame(rec.data, rec.linkType, {
        link: v.link,
        originalLength: rec.originalLength,
      });
      const cut = rec.originalLength > rec.data.length
        ? ` [captured ${rec.data.length} of ${rec.originalLength}]`
        : "";
      print(`${formatTime(rec, v.time!, first)}${line}${v.verbose ? cut : ""}`);
      if (v.verbose) {
        for (const l of formatDecodedLayers(decoded!)) print(`    ${l}`);
      }
    }
  } finally {
    bar.done();
    out?.flush();
    await reader.close();
  }
  if (reader.error !== null) {
    printError(`error: ${reader.error.message}`);
    return 1;
  }
  return 0;
}
