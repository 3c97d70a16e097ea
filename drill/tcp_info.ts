/**
 * `%{ … }%` code blocks: packetdrill runs them in Python with the
 * connection's `tcp_info` as `tcpi_*` variables. Here only `assert EXPR`
 * lines are taken (comparisons of integers, `tcpi_` fields and `TCP_*`
 * state names, with `+ - * //`, `and`, `or`, `not`), and only the fields
 * the stack reports (`ss -tani`'s numbers, {@linkcode TCPI_FIELDS}).
 * Anything else makes the script "not run".
 *
 * @module
 */
import type { TcpSocketInfo } from "../stack/stream.ts";
import { SYMBOLS, TCP_STATE_NUMBER } from "./constants.ts";
import { Unsupported } from "./syscalls.ts";

/** The stack's congestion state (`caState`) as Linux's tcpi_ca_state. */
const CA_STATE_NUMBER: Readonly<Record<string, number>> = { open: 0, recovery: 3, loss: 4 };

/** Linux's "infinite" ssthresh (TCP_INFINITE_SSTHRESH). */
const INFINITE_SSTHRESH = 0x7fffffff;

/** tcp_info fields with a counterpart in the stack's socket list, and how to read them. */
export const TCPI_FIELDS: Readonly<Record<string, (i: TcpSocketInfo) => number>> = {
  "tcpi_state": (i) => TCP_STATE_NUMBER[i.state] ?? 0,
  "tcpi_snd_cwnd": (i) => i.cwnd ?? 0,
  "tcpi_snd_ssthresh": (i) => i.ssthresh ?? INFINITE_SSTHRESH,
  "tcpi_rto": (i) => Math.round((i.rto ?? 0) * 1000),
  "tcpi_rtt": (i) => Math.round((i.rtt ?? 0) * 1000),
  "tcpi_rttvar": (i) => Math.round((i.rttvar ?? 0) * 1000),
  "tcpi_snd_mss": (i) => i.mss ?? 0,
  "tcpi_total_retrans": (i) => i.retrans ?? 0,
  "tcpi_bytes_acked": (i) => i.bytesAcked ?? 0,
  "tcpi_bytes_received": (i) => i.bytesReceived ?? 0,
  "tcpi_segs_out": (i) => i.segsOut ?? 0,
  "tcpi_segs_in": (i) => i.segsIn ?? 0,
  "tcpi_snd_wnd": (i) => i.sndWnd ?? 0,
  "tcpi_snd_wscale": (i) => Number(i.wscale?.split(",")[0] ?? 0),
  "tcpi_rcv_wscale": (i) => Number(i.wscale?.split(",")[1] ?? 0),
  "tcpi_options": (i) => (i.ts ? 1 : 0) | (i.sack ? 2 : 0) | (i.wscale !== "0,0" ? 4 : 0),
  // The stack has no Disorder or CWR state: SACKs without a loss and a
  // window cut outside recovery read as TCP_CA_Open (README table).
  "tcpi_ca_state": (i) => CA_STATE_NUMBER[i.caState ?? "open"] ?? 0,
};

/** One assertion of a block. */
export interface CodeAssert {
  /** The expression text. */
  readonly text: string;
  /** Its tokens. */
  readonly tokens: readonly string[];
}

/**
 * The assertions of a code block.
 *
 * @throws {Unsupported} For any line that is not `assert …` on known fields.
 *
 * @example
 * ```ts
 * import { parseCode } from "./tcp_info.ts";
 * import assert from "node:assert/strict";
 * assert.equal(parseCode("assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd").length, 1);
 * assert.throws(() => parseCode("print(tcpi_rtt)"), /not supported/);
 * ```
 */
export function parseCode(code: string): CodeAssert[] {
  const out: CodeAssert[] = [];
  for (const raw of code.split(/[\n;]/)) {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") continue;
    const m = /^assert\s+(.*)$/.exec(line);
    if (m === null) throw new Unsupported(`code line "${line}" is not supported (only assert)`);
    // Drop the assert's message (", msg") at depth 0.
    let expr = m[1]!;
    let depth = 0;
    for (let i = 0; i < expr.length; i++) {
      const c = expr[i];
      if (c === "(") depth++;
      else if (c === ")") depth--;
      else if (c === "," && depth === 0) {
        expr = expr.slice(0, i);
        break;
      }
    }
    const tokens =
      expr.match(/\/\/|==|!=|<=|>=|[<>()+\-*]|[A-Za-z_][A-Za-z0-9_]*|0x[0-9a-fA-F]+|\d+|\S/g) ?? [];
    for (const t of tokens) {
      if (/^[A-Za-z_]/.test(t) && !["and", "or", "not"].includes(t)) {
        if (t.startsWith("tcpi_") && !(t in TCPI_FIELDS)) {
          throw new Unsupported(`${t} has no counterpart in the stack`);
        }
        if (!t.startsWith("tcpi_") && SYMBOLS[t] === undefined) {
          throw new Unsupported(`code uses "${t}", which is not supported`);
        }
      } else if (!/^(\/\/|==|!=|<=|>=|[<>()+\-*]|0x[0-9a-fA-F]+|\d+|and|or|not)$/.test(t)) {
        throw new Unsupported(`code token "${t}" is not supported`);
      }
    }
    out.push({ text: expr.trim(), tokens });
  }
  return out;
}

/** Evaluates one assertion against `info`; returns null or the failure text. */
export function checkAssert(a: CodeAssert, info: TcpSocketInfo): string | null {
  let i = 0;
  const t = a.tokens;
  const values: string[] = [];
  const atom = (): number => {
    const tok = t[i++];
    if (tok === undefined) throw new Unsupported(`incomplete expression "${a.text}"`);
    if (tok === "(") {
      const v = or();
      i++; // ")"
      return v;
    }
    if (tok === "-") return -atom();
    if (tok === "not") return atom() ? 0 : 1;
    if (/^0x/.test(tok)) return parseInt(tok, 16);
    if (/^\d/.test(tok)) return Number(tok);
    if (tok.startsWith("tcpi_")) {
      const v = TCPI_FIELDS[tok]!(info);
      values.push(`${tok}=${v}`);
      return v;
    }
    return SYMBOLS[tok]!;
  };
  const mul = (): number => {
    let v = atom();
    while (t[i] === "*" || t[i] === "//") v = t[i++] === "*" ? v * atom() : Math.floor(v / atom());
    return v;
  };
  const add = (): number => {
    let v = mul();
    while (t[i] === "+" || t[i] === "-") v = t[i++] === "+" ? v + mul() : v - mul();
    return v;
  };
  const cmp = (): number => {
    const l = add();
    const op = t[i];
    if (!["==", "!=", "<", "<=", ">", ">="].includes(op ?? "")) return l;
    i++;
    const r = add();
    const ok = op === "=="
      ? l === r
      : op === "!="
      ? l !== r
      : op === "<"
      ? l < r
      : op === "<="
      ? l <= r
      : op === ">"
      ? l > r
      : l >= r;
    return ok ? 1 : 0;
  };
  const and = (): number => {
    let v = cmp();
    while (t[i] === "and") {
      i++;
      v = cmp() && v;
    }
    return v;
  };
  const or = (): number => {
    let v = and();
    while (t[i] === "or") {
      i++;
      v = and() || v;
    }
    return v;
  };
  const ok = or();
  return ok ? null : `assertion failed: ${a.text} (${values.join(", ")})`;
}
