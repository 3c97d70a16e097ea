// deno-lint-ignore-file no-console -- the command line prints
/**
 * The deno-netstack command line: `demo`, `graph`, `up` (a virtual host on
 * TUN/TAP), `replay`, `decode` and `drill` (packetdrill scripts). The only
 * place that picks real clocks, real randomness and real drivers.
 *
 * Conventions, the same for every command: `-h`/`--help`; exit code 0 ok, 1
 * a runtime failure, 2 a usage error, 130 SIGINT, 143 SIGTERM; every error
 * is one line `cli.ts <command>: …` on standard error, without a stack
 * trace; `-` is standard input or output wherever a file is taken.
 *
 * @module
 */
import denoJson from "./deno.json" with { type: "json" };
import { DEMO_HELP, runDemo } from "./cli/demo.ts";
import { GRAPH_HELP, runGraph } from "./cli/graph.ts";
import { runUp, UP_HELP } from "./cli/up.ts";
import { REPLAY_HELP, runReplay } from "./cli/replay.ts";
import { DECODE_HELP, runDecode } from "./cli/decode.ts";
import { DRILL_HELP, runDrill } from "./cli/drill.ts";
import { errorLine, EXIT_FAILURE, EXIT_USAGE, UsageError } from "./cli/_common.ts";
import { SERVICES } from "./plugins/services/mod.ts";

/** The version, from deno.json. */
export const VERSION: string = denoJson.version;

const HELP = `deno-netstack ${VERSION}: a TCP/IP stack in TypeScript for Deno

Usage: deno run -A cli.ts <command> [options]

Commands:
  demo     a virtual LAN in memory: ARP, ping, TCP, SLAAC, ping6, a capture (no privileges)
  graph    print the plugin graph of a stack
  up       a virtual host on a TUN/TAP device (or on an in-memory network)
  replay   replay a pcap/pcapng capture into a virtual host, on virtual time
  decode   print a capture one line per packet, like tcpdump -n
  drill    run packetdrill scripts against the stack on virtual time
  help     this text; "help <command>" for a command's options

Options: -h, --help (also after each command); --version.
Exit status: 0 ok, 1 failure, 2 bad usage, 130 on SIGINT, 143 on SIGTERM.
`;

const COMMANDS: Record<string, { help: string; run: (args: string[]) => Promise<number> }> = {
  demo: { help: DEMO_HELP, run: async (a) => (await runDemo(a)).code },
  graph: { help: GRAPH_HELP, run: runGraph },
  up: { help: UP_HELP, run: (a) => runUp(a, { services: SERVICES }) },
  replay: { help: REPLAY_HELP, run: (a) => runReplay(a, { services: SERVICES }) },
  decode: { help: DECODE_HELP, run: (a) => runDecode(a) },
  drill: { help: DRILL_HELP, run: (a) => runDrill(a) },
};

/** Runs the CLI with `args`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  if (cmd === "--version" || cmd === "-V") {
    console.log(`deno-netstack ${VERSION}`);
    return 0;
  }
  if (cmd === undefined || cmd === "help" || cmd === "--help" || cmd === "-h") {
    // "help -h" and "--help --help" ask for this text too, not for a command named "-h".
    if (rest[0] === undefined || rest[0] === "-h" || rest[0] === "--help") {
      console.log(HELP);
      return 0;
    }
    const topic = Object.hasOwn(COMMANDS, rest[0]) ? COMMANDS[rest[0]] : undefined;
    if (topic === undefined) {
      console.error(`cli.ts help: unknown command "${rest[0]}" (commands: ${names()})`);
      return EXIT_USAGE;
    }
    console.log(topic.help);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (command === undefined) {
    console.error(
      `cli.ts: unknown command "${cmd}" (commands: ${names()}; see "cli.ts --help")`,
    );
    return EXIT_USAGE;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    console.error(errorLine(cmd, err));
    return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
  }
}

function names(): string {
  return Object.keys(COMMANDS).join(", ");
}

if (import.meta.main) Deno.exit(await main(Deno.args));
