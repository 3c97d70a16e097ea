/**
 * The classic BPF program the AF_PACKET driver attaches (`SO_ATTACH_FILTER`),
 * so that only frames the stack wants cross into user space: those addressed
 * to the stack's MAC, and broadcast and multicast (group bit set). Frames
 * this host itself sends (`pkttype == PACKET_OUTGOING`, read through the
 * `SKF_AD_PKTTYPE` ancillary load) are refused here too, which covers
 * kernels without `PACKET_IGNORE_OUTGOING`.
 *
 * ```
 * 0  ld  [pkttype]          ; SKF_AD_OFF + SKF_AD_PKTTYPE
 * 1  jeq #4 (OUTGOING)      → 9 drop
 * 2  ldb [0]                ; first byte of the destination MAC
 * 3  jset #1 (group bit)    → 8 accept
 * 4  ld  [2]                ; destination MAC bytes 2..5
 * 5  jeq #mac[2..5]         else → 9 drop
 * 6  ldh [0]                ; destination MAC bytes 0..1
 * 7  jeq #mac[0..1]         else → 9 drop
 * 8  ret #262144            ; accept the whole frame
 * 9  ret #0                 ; drop
 * ```
 *
 * {@linkcode runBpf} interprets the instructions used here, for tests.
 *
 * @module
 */

/** `BPF_LD | BPF_W | BPF_ABS`. */
const LD_W_ABS = 0x20;
/** `BPF_LD | BPF_H | BPF_ABS`. */
const LD_H_ABS = 0x28;
/** `BPF_LD | BPF_B | BPF_ABS`. */
const LD_B_ABS = 0x30;
/** `BPF_JMP | BPF_JEQ | BPF_K`. */
const JEQ_K = 0x15;
/** `BPF_JMP | BPF_JSET | BPF_K`. */
const JSET_K = 0x45;
/** `BPF_RET | BPF_K`. */
const RET_K = 0x06;
/** `SKF_AD_OFF + SKF_AD_PKTTYPE` as an unsigned 32-bit offset. */
const SKF_AD_PKTTYPE = (-0x1000 + 4) >>> 0;
/** Bytes kept of an accepted frame (all of it). */
export const BPF_ACCEPT_LEN = 0x40000;

/** One `struct sock_filter`. */
export interface BpfInstruction {
  /** Opcode. */
  readonly code: number;
  /** Jump offset when true. */
  readonly jt: number;
  /** Jump offset when false. */
  readonly jf: number;
  /** Constant. */
  readonly k: number;
}

/**
 * The filter for a stack whose MAC is `mac`.
 *
 * @param mac The stack's MAC, 6 bytes.
 * @returns The instructions, in order.
 * @throws {TypeError} When `mac` is not 6 bytes.
 *
 * @example
 * ```ts
 * import { macFilter, runBpf } from "./bpf.ts";
 * import assert from "node:assert/strict";
 * const prog = macFilter(new Uint8Array([2, 0, 0, 0, 0, 9]));
 * const frame = new Uint8Array(60);
 * frame.set([2, 0, 0, 0, 0, 9]);
 * assert.equal(runBpf(prog, frame, 0), 0x40000);      // to us
 * assert.equal(runBpf(prog, frame, 4), 0);            // sent by this host
 * frame[5] = 8;
 * assert.equal(runBpf(prog, frame, 3), 0);            // someone else's
 * ```
 */
export function macFilter(mac: Uint8Array): BpfInstruction[] {
  if (mac.length !== 6) {
    throw new TypeError(`Cannot build a BPF filter: MAC has ${mac.length} bytes`);
  }
  const hi = ((mac[0]! << 8) | mac[1]!) >>> 0;
  const lo = ((mac[2]! << 24) | (mac[3]! << 16) | (mac[4]! << 8) | mac[5]!) >>> 0;
  return [
    { code: LD_W_ABS, jt: 0, jf: 0, k: SKF_AD_PKTTYPE },
    { code: JEQ_K, jt: 7, jf: 0, k: 4 },
    { code: LD_B_ABS, jt: 0, jf: 0, k: 0 },
    { code: JSET_K, jt: 4, jf: 0, k: 1 },
    { code: LD_W_ABS, jt: 0, jf: 0, k: 2 },
    { code: JEQ_K, jt: 0, jf: 3, k: lo },
    { code: LD_H_ABS, jt: 0, jf: 0, k: 0 },
    { code: JEQ_K, jt: 0, jf: 1, k: hi },
    { code: RET_K, jt: 0, jf: 0, k: BPF_ACCEPT_LEN },
    { code: RET_K, jt: 0, jf: 0, k: 0 },
  ];
}

/**
 * The program as `struct sock_filter[]` (8 bytes each, host byte order).
 *
 * @example
 * ```ts
 * import { encodeBpf, macFilter } from "./bpf.ts";
 * import assert from "node:assert/strict";
 * assert.equal(encodeBpf(macFilter(new Uint8Array(6))).length, 80);
 * ```
 */
export function encodeBpf(prog: readonly BpfInstruction[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(prog.length * 8);
  const dv = new DataView(out.buffer);
  prog.forEach((ins, i) => {
    dv.setUint16(i * 8, ins.code, true);
    dv.setUint8(i * 8 + 2, ins.jt);
    dv.setUint8(i * 8 + 3, ins.jf);
    dv.setUint32(i * 8 + 4, ins.k, true);
  });
  return out;
}

/**
 * Runs `prog` on `frame` as the kernel would (only the instructions
 * {@linkcode macFilter} uses); `pkttype` is what `SKF_AD_PKTTYPE` loads.
 * A load past the end of the frame drops it, as in the kernel.
 *
 * @returns The bytes to keep: 0 means dropped.
 * @throws {RangeError} On an instruction it does not know.
 *
 * @example
 * ```ts
 * import { macFilter, runBpf } from "./bpf.ts";
 * import assert from "node:assert/strict";
 * const broadcast = new Uint8Array(42).fill(0xff);
 * assert.equal(runBpf(macFilter(new Uint8Array([2, 1, 2, 3, 4, 5])), broadcast, 1), 0x40000);
 * ```
 */
export function runBpf(
  prog: readonly BpfInstruction[],
  frame: Uint8Array,
  pkttype: number,
): number {
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  let a = 0;
  for (let pc = 0; pc < prog.length;) {
    const ins = prog[pc++]!;
    switch (ins.code) {
      case LD_W_ABS:
        if (ins.k === SKF_AD_PKTTYPE) a = pkttype;
        else if (ins.k + 4 > frame.length) return 0;
        else a = dv.getUint32(ins.k);
        break;
      case LD_H_ABS:
        if (ins.k + 2 > frame.length) return 0;
        a = dv.getUint16(ins.k);
        break;
      case LD_B_ABS:
        if (ins.k + 1 > frame.length) return 0;
        a = dv.getUint8(ins.k);
        break;
      case JEQ_K:
        pc += a === ins.k ? ins.jt : ins.jf;
        break;
      case JSET_K:
        pc += (a & ins.k) !== 0 ? ins.jt : ins.jf;
        break;
      case RET_K:
        return ins.k;
      default:
        throw new RangeError(`Cannot run BPF: opcode 0x${ins.code.toString(16)}`);
    }
  }
  return 0;
}
