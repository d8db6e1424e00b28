/* A byte-code interpreter: a register machine with a switch dispatch loop
 * running a program that sums a Collatz-like sequence. Size: outer
 * iterations of the guest program, in thousands. */
#include "bench.h"

enum { LOADI, ADD, SUB, MUL, AND, SHR, JNZ, JMP, MOV, INC, DEC, ODD, HALT };

typedef struct { uint8_t op, a, b, c; int32_t imm; } Insn;

static uint64_t run(const Insn *code, int64_t *r) {
    uint64_t steps = 0;
    for (const Insn *pc = code;; steps++) {
        const Insn *i = pc++;
        switch (i->op) {
        case LOADI: r[i->a] = i->imm; break;
        case ADD: r[i->a] = r[i->b] + r[i->c]; break;
        case SUB: r[i->a] = r[i->b] - r[i->c]; break;
        case MUL: r[i->a] = r[i->b] * r[i->c]; break;
        case AND: r[i->a] = r[i->b] & r[i->c]; break;
        case SHR: r[i->a] = r[i->b] >> i->imm; break;
        case JNZ: if (r[i->a]) pc = code + i->imm; break;
        case JMP: pc = code + i->imm; break;
        case MOV: r[i->a] = r[i->b]; break;
        case INC: r[i->a]++; break;
        case DEC: r[i->a]--; break;
        case ODD: r[i->a] = r[i->b] & 1; break;
        case HALT: return steps;
        }
    }
}

int main(int argc, char **argv) {
    long outer = bench_size(argc, argv, 750) * 1000;
    /* r0: outer counter, r1: x, r2: acc, r3: tmp, r4: const 3, r5: const 1 */
    Insn prog[] = {
        /* 0 */ {LOADI, 0, 0, 0, 0}, /* outer counter set below */
        /* 1 */ {LOADI, 4, 0, 0, 3},
        /* 2 */ {LOADI, 5, 0, 0, 1},
        /* 3 */ {MOV, 1, 0, 0, 0},          /* x = counter */
        /* 4 */ {ODD, 3, 1, 0, 0},          /* loop: tmp = x & 1 */
        /* 5 */ {JNZ, 3, 0, 0, 9},
        /* 6 */ {SHR, 1, 1, 0, 1},          /* x >>= 1 */
        /* 7 */ {ADD, 2, 2, 1},             /* acc += x */
        /* 8 */ {JMP, 0, 0, 0, 12},
        /* 9 */ {MUL, 1, 1, 4},             /* x = 3x + 1 */
        /* 10 */ {ADD, 1, 1, 5},
        /* 11 */ {SUB, 2, 2, 5},            /* acc -= 1 */
        /* 12 */ {SUB, 3, 1, 5},            /* tmp = x - 1 */
        /* 13 */ {JNZ, 3, 0, 0, 4},
        /* 14 */ {DEC, 0, 0, 0, 0},
        /* 15 */ {JNZ, 0, 0, 0, 3},
        /* 16 */ {HALT, 0, 0, 0, 0},
    };
    prog[0].imm = (int32_t)outer;
    int64_t r[8] = {0};
    uint64_t steps = run(prog, r);
    uint64_t h = bench_mix(bench_mix(0, steps), (uint64_t)r[2]);
    bench_checksum(h);
    return 0;
}
