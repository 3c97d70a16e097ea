/**
 * `cli.ts decode FILE`: prints a pcap or pcapng capture one line per packet,
 * like `tcpdump -n`, with the stack's own parsers (`stack/wire/pretty.ts`
 * for the line, `stack/wire/decode.ts` for `-v`, every header field).
 * {@linkcode runDecode} is the whole command; {@linkcode DECODE_HELP}
 * documents it.
 *
 * The filter language (shared with `replay --filter`) is in `filter.ts`;
 * {@linkcode compileFilter} and {@linkcode FILTER_HELP} are re-exported here.
 *
 * @module
 */
import { CaptureReader, CaptureReaderSync, type CaptureRecord } from "../drivers/pcapfile/mod.ts";
import { decodeFrame, formatDecodedLayers } from "../stack/wire/decode.ts";
import { describeFrame } from "../stack/wire/pretty.ts";
import { ProgressBar } from "./_progress.ts";
import {
  checkInputPath,
  errorLine,
  EXIT_FAILURE,
  EXIT_USAGE,
  parseOptions,
  UsageError,
  writeLine,
} from "./_common.ts";
import { compileFilter, FILTER_HELP, type FrameFilter } from "./filter.ts";

export { compileFilter, FILTER_HELP, type FrameFilter };

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
  -h, --help        this text

${FILTER_HELP}

Exit status: 0; 1 when the capture is corrupt or cut off (the packets before
the damage are printed, and the error names its byte offset); 2 for bad
options or a missing file.

Example:
  deno run --allow-read cli.ts decode capture.pcapng --filter "tcp and port 80" -c 20
`;

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
    const parsed = parseOptions({
      args,
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
    printError(errorLine("decode", err));
    return EXIT_USAGE;
  }
  if (v.help) {
    print(DECODE_HELP);
    out?.flush();
    return 0;
  }
  const usage = (m: string) => {
    printError(errorLine("decode", new UsageError(m)));
    return EXIT_USAGE;
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
      return usage(`--filter: ${(err as Error).message}`);
    }
  }
  const path = positionals[0]!;
  try {
    checkInputPath("", path);
  } catch (err) {
    return usage((err as Error).message);
  }
  const onWarning = (w: Error) => printError(`cli.ts decode: warning: ${w.message}`);
  let reader: CaptureReaderSync | CaptureReader;
  let size = 0;
  try {
    if (path === "-") reader = new CaptureReader(Deno.stdin.readable, { onWarning });
    else {
      size = Deno.statSync(path).size;
      reader = CaptureReaderSync.open(path, { onWarning });
    }
  } catch (err) {
    printError(errorLine("decode", `cannot open ${path}: ${(err as Error).message}`));
    return EXIT_FAILURE;
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
    printError(errorLine("decode", reader.error));
    return EXIT_FAILURE;
  }
  return 0;
}
