/**
 * `cli.ts drill FILE...`: runs packetdrill scripts against the stack on
 * virtual time (`drill/`), prints one line per script and a summary.
 * {@linkcode runDrill} is the whole command; {@linkcode DRILL_HELP}
 * documents it.
 *
 * @module
 */
import { formatResult, formatSummary, type NamedResult, runScript } from "../drill/mod.ts";
import {
  errorLine,
  EXIT_FAILURE,
  EXIT_USAGE,
  parseOptions,
  UsageError,
  writeLine,
} from "./_common.ts";

/** Help text of `drill`. */
export const DRILL_HELP = `Usage: deno run --allow-read cli.ts drill FILE... [options]

Runs packetdrill scripts (.pkt) against a fresh stack each, in-process, on
virtual time: the stack is 192.168.0.1 on a raw-IP link, the script is
192.0.2.1 (IPv6: fd3d:fa7b:d17d::1 and 2001:db8::1). Inbound lines are
injected, outbound lines are matched against what the stack sends and when,
system calls go to the stack's sockets. A directory runs every .pkt below it;
"-" reads a script from standard input. A script that needs something the
stack does not have (a sysctl, a socket option, a tcp_info field), or that
has no events to check, is "not run", with the reason.

Options:
  -v, --verbose          print every packet as tcpdump -n would, and every call
  --strict-segments      match each outbound line against exactly one segment
                         (packetdrill's --strict_segments); by default segments
                         sent back to back are gathered into the line's payload,
                         so a super-segment (what TSO would send) matches
  --tso                  give the link TSO, as packetdrill's TUN device has:
                         the stack sends super-segments (up to 64 KiB) as one
                         frame (a script says so with \`ethtool -K tun0 tso on\`)
  --tolerance-usecs N    timing tolerance in µs (default 4000, as packetdrill)
  -h, --help             this text

Exit status: 0 when no script failed; 1 when one failed; 2 for bad usage or a
missing file.

Example:
  deno run --allow-read cli.ts drill tests/drill/scripts
`;

/** Options of {@linkcode runDrill}, for tests and embedding. */
export interface DrillCommandOptions {
  /** Where lines go (default standard output). */
  readonly print?: (line: string) => void;
  /** Where errors go (default standard error). */
  readonly printError?: (line: string) => void;
}

/**
 * Runs the \`drill\` command; returns the exit code.
 *
 * @example
 * ```ts
 * import { runDrill } from "./drill.ts";
 * import assert from "node:assert/strict";
 * const lines: string[] = [];
 * assert.equal(await runDrill(["--bogus"], { print: (l) => lines.push(l), printError: (l) => lines.push(l) }), 2);
 * ```
 */
export async function runDrill(args: string[], options: DrillCommandOptions = {}): Promise<number> {
  const print = options.print ?? ((l: string) => writeLine(Deno.stdout, l));
  const printError = options.printError ?? ((l: string) => writeLine(Deno.stderr, l));
  const usage = (err: unknown) => {
    printError(errorLine("drill", err));
    return EXIT_USAGE;
  };
  let v, files: string[];
  try {
    const parsed = parseOptions({
      args,
      allowPositionals: true,
      options: {
        verbose: { type: "boolean", short: "v", default: false },
        "strict-segments": { type: "boolean", default: false },
        tso: { type: "boolean", default: false },
        "tolerance-usecs": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
    v = parsed.values;
    files = parsed.positionals;
  } catch (err) {
    return usage(err);
  }
  if (v.help) {
    print(DRILL_HELP);
    return 0;
  }
  if (files.length === 0) return usage(new UsageError("give at least one script FILE"));
  // Standard input can be read once: a second "-" failed after the first ran.
  if (files.filter((f) => f === "-").length > 1) {
    return usage(new UsageError("- (standard input) can be given once"));
  }
  let tolerance: number | undefined;
  if (v["tolerance-usecs"] !== undefined) {
    tolerance = Number(v["tolerance-usecs"]);
    if (!Number.isInteger(tolerance) || tolerance < 0) {
      return usage(new UsageError("--tolerance-usecs must be a whole number of µs"));
    }
  }
  const scripts: string[] = [];
  for (const f of files) {
    if (f === "-") {
      scripts.push(f); // standard input
      continue;
    }
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(f);
    } catch {
      return usage(new UsageError(`cannot read "${f}": no such file`));
    }
    if (info.isDirectory) scripts.push(...(await listScripts(f)));
    else scripts.push(f);
  }
  const results: NamedResult[] = [];
  for (const name of scripts) {
    let source: string;
    try {
      source = name === "-"
        ? await new Response(Deno.stdin.readable).text()
        : await Deno.readTextFile(name);
    } catch (err) {
      printError(errorLine("drill", err));
      return EXIT_FAILURE;
    }
    if (v.verbose) print(`== ${name}`);
    const r = runScript(source, {
      strictSegments: v["strict-segments"],
      tso: v.tso,
      ...(tolerance !== undefined ? { tolerance } : {}),
      ...(v.verbose ? { trace: (l: string) => print(`  ${l}`) } : {}),
    });
    const named = { ...r, name };
    results.push(named);
    print(formatResult(named));
  }
  print(formatSummary(results));
  return results.some((r) => r.status === "failed") ? EXIT_FAILURE : 0;
}

/** Every .pkt below `dir`, sorted. */
export async function listScripts(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir.replace(/\/$/, "")}/${e.name}`;
    if (e.isDirectory) out.push(...(await listScripts(path)));
    else if (e.name.endsWith(".pkt")) out.push(path);
  }
  return out.sort();
}
