/**
 * The parser of packetdrill's script language (the grammar of google/
 * packetdrill's parser.y, written afresh as recursive descent): options,
 * an optional init command, then events `time action`.
 *
 * @module
 */
import type {
  Action,
  DrillEvent,
  DrillScript,
  Expr,
  IcmpPacketSpec,
  IpInfo,
  PacketSpec,
  ScriptOption,
  SyscallSpec,
  TcpOptionSpec,
  TimeSpec,
} from "./ast.ts";
import { DrillSyntaxError, type Token, tokenize } from "./lexer.ts";

export { DrillSyntaxError };

/**
 * Parses a script.
 *
 * @throws {DrillSyntaxError} With the line of the first error.
 *
 * @example
 * ```ts
 * import { parseScript } from "./parser.ts";
 * import assert from "node:assert/strict";
 * const s = parseScript("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:0(0) <...>\n");
 * assert.equal(s.events.length, 2);
 * assert.equal(s.events[1]!.action.type, "packet");
 * ```
 */
export function parseScript(source: string): DrillScript {
  return new Parser(source).script();
}

class Parser {
  readonly #src: string;
  readonly #t: Token[];
  #i = 0;

  constructor(source: string) {
    this.#src = source;
    this.#t = tokenize(source);
  }

  get #tok(): Token {
    return this.#t[this.#i]!;
  }

  #peek(k = 1): Token {
    return this.#t[Math.min(this.#i + k, this.#t.length - 1)]!;
  }

  #next(): Token {
    const t = this.#tok;
    if (t.kind !== "eof") this.#i++;
    return t;
  }

  #is(text: string): boolean {
    const t = this.#tok;
    return (t.kind === "punct" || t.kind === "word") && t.text === text;
  }

  #eat(text: string): boolean {
    if (!this.#is(text)) return false;
    this.#i++;
    return true;
  }

  #fail(message: string, t: Token = this.#tok): never {
    const what = t.kind === "eof" ? "end of file" : `"${this.#src.slice(t.start, t.end)}"`;
    throw new DrillSyntaxError(t.line, `${message} (at ${what})`);
  }

  #expect(text: string): Token {
    if (!this.#is(text)) this.#fail(`expected "${text}"`);
    return this.#next();
  }

  #integer(what: string): number {
    const neg = this.#eat("-");
    const t = this.#tok;
    if (t.kind !== "int" && t.kind !== "hex") this.#fail(`expected ${what}`);
    this.#i++;
    const v = t.kind === "hex" ? parseInt(t.text, 16) : Number(t.text);
    return neg ? -v : v;
  }

  #u32(what: string): number {
    const v = this.#integer(what);
    if (v < 0 || v > 0xffffffff) this.#fail(`${what} out of range`, this.#t[this.#i - 1]);
    return v;
  }

  script(): DrillScript {
    const options: ScriptOption[] = [];
    while (this.#tok.kind === "option") {
      const t = this.#next();
      const eq = t.text.indexOf("=");
      options.push(
        eq < 0
          ? { name: t.text, line: t.line }
          : { name: t.text.slice(0, eq), value: unquote(t.text.slice(eq + 1)), line: t.line },
      );
    }
    let initCommand: DrillScript["initCommand"];
    if (this.#tok.kind === "command") {
      const t = this.#next();
      initCommand = { command: t.text, line: t.line };
    }
    const events: DrillEvent[] = [];
    let cleanupCommand: DrillScript["cleanupCommand"];
    while (this.#tok.kind !== "eof") {
      if (this.#peek(0).kind === "option") {
        this.#fail("script options must come before every event");
      }
      // A trailing back-quoted command is packetdrill's cleanup command.
      if (this.#tok.kind === "command" && this.#peek().kind === "eof") {
        const t = this.#next();
        cleanupCommand = { command: t.text, line: t.line };
        continue;
      }
      events.push(this.#event());
    }
    return {
      options,
      ...(initCommand ? { initCommand } : {}),
      events,
      ...(cleanupCommand ? { cleanupCommand } : {}),
    };
  }

  #time(): number {
    const t = this.#tok;
    if (t.kind !== "int" && t.kind !== "float") this.#fail("expected a time");
    this.#i++;
    return Math.round(Number(t.text) * 1e6);
  }

  #eventTime(): TimeSpec {
    if (this.#eat("*")) return { kind: "any", usecs: 0 };
    if (this.#eat("+")) {
      const usecs = this.#time();
      if (this.#eat("~")) {
        this.#expect("+");
        return { kind: "relative_range", usecs, endUsecs: this.#time() };
      }
      return { kind: "relative", usecs };
    }
    const usecs = this.#time();
    if (this.#eat("~")) return { kind: "absolute_range", usecs, endUsecs: this.#time() };
    return { kind: "absolute", usecs };
  }

  #event(): DrillEvent {
    const first = this.#tok;
    const time = this.#eventTime();
    let action: Action;
    const t = this.#tok;
    if (t.kind === "command") {
      this.#i++;
      action = { type: "command", command: t.text };
    } else if (t.kind === "code") {
      this.#i++;
      action = { type: "code", code: t.text };
    } else if (this.#is("<") || this.#is(">")) {
      action = { type: "packet", packet: this.#packet() };
    } else {
      action = { type: "syscall", call: this.#syscall() };
    }
    if (
      (time.kind === "any" || time.kind.endsWith("_range")) &&
      !(action.type === "packet" && action.packet.direction === ">")
    ) {
      throw new DrillSyntaxError(first.line, "a time of * or a range is for outbound packets only");
    }
    const last = this.#t[this.#i - 1]!;
    return { line: first.line, time, action, text: this.#src.slice(first.start, last.end) };
  }

  // ---- packets ----------------------------------------------------------------------

  #ipInfo(): IpInfo {
    const open = this.#is("[") ? "[" : this.#is("(") ? "(" : undefined;
    if (open === undefined) return {};
    const close = open === "[" ? "]" : ")";
    this.#i++;
    let info: IpInfo = {};
    for (;;) {
      const w = this.#tok;
      if (w.kind !== "word") this.#fail("expected an IP field (ect0, ect1, ce, no_ecn, tos, ttl)");
      this.#i++;
      const name = w.text.toLowerCase();
      if (["no_ecn", "ect0", "ect1", "ce", "ect01"].includes(name)) {
        info = { ...info, ecn: name as NonNullable<IpInfo["ecn"]> };
      } else if (name === "tos") info = { ...info, tos: this.#integer("a TOS value") };
      else if (name === "ttl") info = { ...info, ttl: this.#integer("a TTL") };
      else this.#fail(`unknown IP field "${w.text}"`, w);
      if (this.#eat(close)) return info;
      this.#expect(",");
    }
  }

  #ports(): readonly [number, number] | undefined {
    if (this.#tok.kind === "int" && this.#peek().kind === "punct" && this.#peek().text === ">") {
      const src = this.#integer("a port");
      this.#expect(">");
      return [src, this.#integer("a port")];
    }
    return undefined;
  }

  #packet(): PacketSpec {
    const direction = this.#next().text as "<" | ">";
    const ip = this.#ipInfo();
    if (this.#is("udp")) {
      this.#i++;
      const ports = this.#ports();
      this.#expect("(");
      const length = this.#integer("a UDP payload length");
      this.#expect(")");
      return { protocol: "udp", direction, ip, ...(ports ? { ports } : {}), length };
    }
    if (this.#is("icmp")) {
      this.#i++;
      return this.#icmp(direction, ip);
    }
    const ports = this.#ports();
    // flags: a word of letters with an optional ".", a lone ".", or "-"
    let flags = "";
    let ackFlag = false;
    if (this.#tok.kind === "word" && /^[SFRPUEWC]+$/.test(this.#tok.text)) {
      flags = this.#next().text;
      if (this.#peek(0).kind === "punct" && this.#peek(0).text === "." && !this.#peek(0).spaced) {
        this.#i++;
        ackFlag = true;
      }
    } else if (this.#eat(".")) ackFlag = true;
    else if (!this.#eat("-")) this.#fail("expected TCP flags");
    const seq = this.#u32("a start sequence number");
    this.#expect(":");
    const end = this.#u32("an end sequence number");
    this.#expect("(");
    const length = this.#integer("a payload length");
    this.#expect(")");
    if (((seq + length) >>> 0) !== end) {
      this.#fail("inconsistent TCP sequence numbers and payload size", this.#t[this.#i - 1]);
    }
    let ack: number | undefined, window: number | undefined, urg: number | undefined;
    for (;;) {
      if (this.#eat("ack")) ack = this.#u32("an ack number");
      else if (this.#eat("win")) window = this.#integer("a window");
      else if (this.#eat("urg")) urg = this.#integer("an urgent pointer");
      else break;
    }
    if (window !== undefined && (window < 0 || window > 65535)) {
      this.#fail("TCP window out of range");
    }
    let options: TcpOptionSpec[] | null = [];
    if (this.#eat("<")) {
      if (this.#tok.kind === "ellipsis") {
        if (direction === "<") this.#fail("<...> for TCP options is for outbound packets only");
        this.#i++;
        options = null;
      } else {
        options.push(this.#tcpOption());
        while (this.#eat(",")) options.push(this.#tcpOption());
      }
      this.#expect(">");
    }
    return {
      protocol: "tcp",
      direction,
      ip,
      ...(ports ? { ports } : {}),
      flags,
      ackFlag,
      seq,
      length,
      ...(ack !== undefined ? { ack } : {}),
      ...(window !== undefined ? { window } : {}),
      ...(urg !== undefined ? { urg } : {}),
      options,
    };
  }

  #tcpOption(): TcpOptionSpec {
    const w = this.#tok;
    if (w.kind !== "word") this.#fail("expected a TCP option");
    this.#i++;
    switch (w.text) {
      case "nop":
        return { kind: "nop" };
      case "eol":
        return { kind: "eol" };
      case "mss":
        return { kind: "mss", value: this.#integer("an MSS") };
      case "wscale":
        return { kind: "wscale", value: this.#integer("a window scale shift") };
      case "sackOK":
        return { kind: "sackOK" };
      case "sack": {
        const blocks: [number, number][] = [];
        while (this.#tok.kind === "int" && this.#peek().text === ":") {
          const l = this.#u32("a SACK left edge");
          this.#expect(":");
          blocks.push([l, this.#u32("a SACK right edge")]);
        }
        if (blocks.length === 0) this.#fail("expected SACK blocks");
        return { kind: "sack", blocks };
      }
      case "TS": {
        this.#expect("val");
        const val = this.#u32("a TS val");
        this.#expect("ecr");
        return { kind: "ts", val, ecr: this.#u32("a TS ecr") };
      }
      case "FO":
      case "FOEXP": {
        let cookie = "";
        const t = this.#tok;
        if ((t.kind === "word" || t.kind === "int") && !this.#is(",")) {
          this.#i++;
          cookie = t.text;
        }
        return { kind: "fo", cookie, experimental: w.text === "FOEXP" };
      }
      case "md5": {
        const t = this.#next();
        return { kind: "md5", key: t.text };
      }
      default:
        return this.#fail(`unknown TCP option "${w.text}"`, w);
    }
  }

  #icmp(direction: "<" | ">", ip: IpInfo): IcmpPacketSpec {
    const type = this.#tok;
    if (type.kind !== "word") this.#fail("expected an ICMP type");
    this.#i++;
    let code: string | undefined, mtu: number | undefined;
    if (this.#tok.kind === "word" && this.#tok.text !== "mtu" && this.#tok.text !== "id") {
      code = this.#next().text;
    }
    if (this.#eat("mtu")) mtu = this.#integer("an MTU");
    if (this.#eat("id")) this.#integer("an echo id");
    let echoed: IcmpPacketSpec["echoed"] = { protocol: "tcp", seq: 0, length: 0 };
    if (this.#eat("[")) {
      if (this.#eat("udp")) {
        this.#expect("(");
        echoed = { protocol: "udp", length: this.#integer("a UDP length") };
        this.#expect(")");
      } else {
        const seq = this.#u32("a sequence number");
        this.#expect(":");
        this.#u32("an end sequence number");
        this.#expect("(");
        echoed = { protocol: "tcp", seq, length: this.#integer("a payload length") };
        this.#expect(")");
      }
      this.#expect("]");
    }
    return {
      protocol: "icmp",
      direction,
      ip,
      type: type.text,
      ...(code !== undefined ? { code } : {}),
      ...(mtu !== undefined ? { mtu } : {}),
      echoed,
    };
  }

  // ---- system calls -----------------------------------------------------------------

  #syscall(): SyscallSpec {
    let endUsecs: number | undefined;
    if (this.#tok.kind === "ellipsis") {
      this.#i++;
      endUsecs = this.#time();
    }
    const name = this.#tok;
    if (name.kind !== "word") this.#fail("expected a packet, a system call, a command or code");
    this.#i++;
    this.#expect("(");
    const args: Expr[] = [];
    if (!this.#eat(")")) {
      args.push(this.#expr());
      while (this.#eat(",")) args.push(this.#expr());
      this.#expect(")");
    }
    this.#expect("=");
    const result = this.#expr();
    let errno: string | undefined, note: string | undefined;
    if (this.#tok.kind === "word" && this.#tok.line === name.line) errno = this.#next().text;
    if (this.#is("(") && this.#tok.line === name.line) note = this.#note();
    return {
      name: name.text,
      args,
      result,
      ...(errno !== undefined ? { errno } : {}),
      ...(note !== undefined ? { note } : {}),
      ...(endUsecs !== undefined ? { endUsecs } : {}),
    };
  }

  #note(): string {
    const open = this.#next();
    let depth = 1;
    while (this.#tok.kind !== "eof") {
      const t = this.#next();
      if (t.kind === "punct" && t.text === "(") depth++;
      if (t.kind === "punct" && t.text === ")" && --depth === 0) {
        return this.#src.slice(open.end, t.start).trim();
      }
    }
    return this.#fail("unterminated note");
  }

  #expr(): Expr {
    let e = this.#primary();
    while (this.#eat("|")) e = { kind: "or", lhs: e, rhs: this.#primary() };
    return e;
  }

  #primary(): Expr {
    const t = this.#tok;
    if (t.kind === "ellipsis") {
      this.#i++;
      return { kind: "ellipsis" };
    }
    if (t.kind === "int" || t.kind === "hex" || this.#is("-")) {
      return { kind: "int", value: this.#integer("a number") };
    }
    if (t.kind === "string") {
      this.#i++;
      let value = t.text;
      while (this.#tok.kind === "string") value += this.#next().text;
      if (this.#tok.kind === "ellipsis") this.#i++; // "abc"...: a prefix
      return { kind: "string", value };
    }
    if (t.kind === "word") {
      this.#i++;
      if (this.#eat("=")) return { kind: "assign", name: t.text, value: this.#expr() };
      if (this.#eat("(")) {
        const args: Expr[] = [];
        if (!this.#eat(")")) {
          args.push(this.#expr());
          while (this.#eat(",")) args.push(this.#expr());
          this.#expect(")");
        }
        return { kind: "call", name: t.text, args };
      }
      return { kind: "word", name: t.text };
    }
    if (this.#eat("[")) {
      const items: Expr[] = [];
      if (!this.#eat("]")) {
        items.push(this.#expr());
        while (this.#eat(",")) items.push(this.#expr());
        this.#expect("]");
      }
      return { kind: "list", items };
    }
    if (this.#eat("{")) {
      const items: Expr[] = [];
      if (!this.#eat("}")) {
        items.push(this.#expr());
        while (this.#eat(",")) items.push(this.#expr());
        this.#expect("}");
      }
      return { kind: "struct", items };
    }
    return this.#fail("expected an expression");
  }
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}
