/**
 * The tokenizer of packetdrill's script language: numbers (decimal, hex,
 * fractional seconds), words, IPv4 addresses, strings, `...`, `--options`,
 * back-quoted shell commands and `%{ … }%` code blocks, each with its line
 * and its offsets in the source (error text quotes the source).
 *
 * @module
 */

/** What a token is. */
export type TokenKind =
  | "int"
  | "hex"
  | "float"
  | "word"
  | "ipv4"
  | "string"
  | "ellipsis"
  | "option"
  | "command"
  | "code"
  | "punct"
  | "eof";

/** One token. */
export interface Token {
  /** Kind. */
  readonly kind: TokenKind;
  /** The text: a word, a number's digits, a string without quotes, a command or code body. */
  readonly text: string;
  /** 1-based line of the token's first character. */
  readonly line: number;
  /** Offset of its first character. */
  readonly start: number;
  /** Offset after its last character. */
  readonly end: number;
  /** Whether white space (or a comment) precedes it. */
  readonly spaced: boolean;
}

/** A syntax error at a line. */
export class DrillSyntaxError extends Error {
  /** 1-based line. */
  readonly line: number;
  /** Creates the error. */
  constructor(line: number, message: string) {
    super(message);
    this.name = "DrillSyntaxError";
    this.line = line;
  }
}

const WORD_START = /[A-Za-z_]/;
const WORD_CHAR = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;

/**
 * Splits `source` into tokens, ending with one `eof` token.
 *
 * @throws {DrillSyntaxError} On an unterminated string, command or code block.
 *
 * @example
 * ```ts
 * import { tokenize } from "./lexer.ts";
 * import assert from "node:assert/strict";
 * const t = tokenize("+.1 < S. 0:0(0) ack 1 win 100 // c");
 * assert.deepEqual(t.map((x) => x.text), ["+", ".1", "<", "S", ".", "0", ":", "0", "(", "0", ")", "ack", "1", "win", "100", ""]);
 * ```
 */
export function tokenize(source: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let spaced = true;
  const n = source.length;
  const push = (kind: TokenKind, text: string, start: number, startLine: number) => {
    out.push({ kind, text, line: startLine, start, end: i, spaced });
    spaced = false;
  };
  while (i < n) {
    const c = source[i]!;
    if (c === "\n") {
      line++;
      i++;
      spaced = true;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      spaced = true;
      continue;
    }
    if (c === "/" && source[i + 1] === "/") {
      while (i < n && source[i] !== "\n") i++;
      spaced = true;
      continue;
    }
    if (c === "/" && source[i + 1] === "*") {
      const close = source.indexOf("*/", i + 2);
      if (close < 0) throw new DrillSyntaxError(line, "unterminated /* comment");
      for (let j = i; j < close; j++) if (source[j] === "\n") line++;
      i = close + 2;
      spaced = true;
      continue;
    }
    const start = i;
    const startLine = line;
    if (c === "%" && source[i + 1] === "{") {
      const close = source.indexOf("}%", i + 2);
      if (close < 0) throw new DrillSyntaxError(line, "unterminated %{ code block");
      const body = source.slice(i + 2, close);
      for (const ch of body) if (ch === "\n") line++;
      i = close + 2;
      push("code", body, start, startLine);
      continue;
    }
    if (c === "`") {
      const close = source.indexOf("`", i + 1);
      if (close < 0) throw new DrillSyntaxError(line, "unterminated back-quoted command");
      const body = source.slice(i + 1, close);
      for (const ch of body) if (ch === "\n") line++;
      i = close + 1;
      push("command", body, start, startLine);
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < n && source[j] !== '"' && source[j] !== "\n") j += source[j] === "\\" ? 2 : 1;
      if (source[j] !== '"') throw new DrillSyntaxError(line, "unterminated string");
      const body = source.slice(i + 1, j);
      i = j + 1;
      push("string", body, start, startLine);
      continue;
    }
    if (c === "." && source.startsWith("...", i)) {
      i += 3;
      push("ellipsis", "...", start, startLine);
      continue;
    }
    if (c === "-" && source[i + 1] === "-" && WORD_START.test(source[i + 2] ?? "")) {
      // --name or --name=value (a script option, at the top of a script)
      i += 2;
      while (i < n && /[A-Za-z0-9_-]/.test(source[i]!)) i++;
      if (source[i] === "=") {
        i++;
        if (source[i] === '"') {
          const close = source.indexOf('"', i + 1);
          i = close < 0 ? n : close + 1;
        } else while (i < n && !/\s/.test(source[i]!)) i++;
      }
      push("option", source.slice(start + 2, i), start, startLine);
      continue;
    }
    if (DIGIT.test(c) || (c === "." && DIGIT.test(source[i + 1] ?? ""))) {
      const ip = /^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}/.exec(source.slice(i, i + 16));
      if (ip !== null) {
        i += ip[0].length;
        push("ipv4", ip[0], start, startLine);
        continue;
      }
      if (c === "0" && (source[i + 1] === "x" || source[i + 1] === "X")) {
        i += 2;
        while (i < n && /[0-9A-Fa-f]/.test(source[i]!)) i++;
        push("hex", source.slice(start, i), start, startLine);
        continue;
      }
      while (i < n && DIGIT.test(source[i]!)) i++;
      // A fraction only when a digit follows the dot ("1." in "P. 1:1" is
      // not a number with a fraction: the dot belongs to the flags).
      if (source[i] === "." && DIGIT.test(source[i + 1] ?? "") && source[i + 1] !== undefined) {
        i++;
        while (i < n && DIGIT.test(source[i]!)) i++;
        push("float", source.slice(start, i), start, startLine);
        continue;
      }
      if (source[i] === "." && !source.startsWith("...", i) && c !== ".") {
        // "1." followed by a non-digit: still a float in packetdrill ("1.").
        if (!/[A-Za-z]/.test(source[i + 1] ?? "")) {
          i++;
          push("float", source.slice(start, i), start, startLine);
          continue;
        }
      }
      // Hex blobs such as a Fast Open cookie "1234abcd" continue into letters.
      if (WORD_START.test(source[i] ?? "")) {
        while (i < n && WORD_CHAR.test(source[i]!)) i++;
        push("word", source.slice(start, i), start, startLine);
        continue;
      }
      push(
        source.slice(start, i).includes(".") ? "float" : "int",
        source.slice(start, i),
        start,
        startLine,
      );
      continue;
    }
    if (WORD_START.test(c)) {
      while (i < n && WORD_CHAR.test(source[i]!)) i++;
      push("word", source.slice(start, i), start, startLine);
      continue;
    }
    i++;
    push("punct", c, start, startLine);
  }
  push("eof", "", i, line);
  return out;
}
