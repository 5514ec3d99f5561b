#!/usr/bin/env python3
"""make_seeds.py — writes the hand-made seed inputs of corpus/exitstack/fuzz_exitstack.

Each seed is a sequence of operations of fuzz_exitstack.c (opcode byte, then
parameter bytes). Run: python3 tests/exitstack/make_seeds.py corpus/exitstack/fuzz_exitstack
Regression inputs found by the fuzzer are added next to them as crash-*/leak-*
files renamed to regress-<what>.
"""
import os
import sys

NEW, CALLBACK, PUSH, ENTER, REENT, ACT, POPALL, CLOSE, EXIT, CANCEL, FREE, \
    VARSET, VARRESET, CTXRUN, FAILALLOC = range(15)
# ACT kinds: 0 register-during-unwind, 1 cancel own stack, 2 pop_all own stack, 3 close stack N
SEEDS = {
    "seed-lifo": [CALLBACK, 0, 0, CALLBACK, 0, 0, CALLBACK, 0, 1, CLOSE, 0],
    "seed-close-twice-reuse": [CALLBACK, 0, 1, CLOSE, 0, CLOSE, 0, CALLBACK, 0, 1, CLOSE, 0],
    "seed-push-kinds": [PUSH, 0, 0, PUSH, 0, 1, PUSH, 0, 2, PUSH, 0, 0, EXIT, 0, 1],
    "seed-suppress-then-raise": [CALLBACK, 0, 1, PUSH, 0, 1, CALLBACK, 0, 1, EXIT, 0, 1],
    "seed-enter-kinds": [ENTER, 0, 0, ENTER, 0, 1, ENTER, 0, 2, ENTER, 0, 3, ENTER, 0, 4, EXIT, 0, 1],
    "seed-reentrant": [REENT, 0, 1, NEW, REENT, 1, 1, REENT, 1, 1, CLOSE, 1, REENT, 0, 1, CLOSE, 0,
                       REENT, 0, 0, CLOSE, 0],
    "seed-pop-all": [CALLBACK, 0, 0, PUSH, 0, 2, POPALL, 0, CALLBACK, 0, 1, CLOSE, 0, CLOSE, 1],
    "seed-act-register": [CALLBACK, 0, 0, ACT, 0, 0, 0, CALLBACK, 0, 1, CLOSE, 0],
    "seed-act-cancel": [CALLBACK, 0, 1, ACT, 0, 1, 0, CALLBACK, 0, 1, CLOSE, 0, CANCEL, 0, CLOSE, 0],
    "seed-act-pop-all": [CALLBACK, 0, 0, CALLBACK, 0, 1, ACT, 0, 2, 0, CALLBACK, 0, 0, CLOSE, 0, CLOSE, 1],
    "seed-act-close-self": [CALLBACK, 0, 1, ACT, 0, 3, 0, CALLBACK, 0, 1, CLOSE, 0],
    "seed-nested": [NEW, CALLBACK, 1, 1, PUSH, 1, 2, ACT, 0, 3, 1, CALLBACK, 0, 1, EXIT, 0, 1],
    "seed-cancel-group": [CALLBACK, 0, 1, CALLBACK, 0, 1, CANCEL, 0, CANCEL, 0, EXIT, 0, 1],
    "seed-free-with-entries": [NEW, CALLBACK, 1, 1, PUSH, 1, 0, FREE, 1, CALLBACK, 0, 0],
    "seed-contextvars": [VARSET, 0, 0, 5, VARSET, 0, 1, 6, VARSET, 1, 2, 7, VARRESET, 0, 0,
                         VARRESET, 0, 0, VARRESET, 1, 1, VARRESET, 0, 1, VARRESET, 1, 2,
                         CTXRUN, 0, 9, 3, VARRESET, 0, 3],
    "seed-oom-register": [CALLBACK, 0, 0] * 15 + [FAILALLOC, 0, CALLBACK, 0, 0, CALLBACK, 0, 1, CLOSE, 0],
    "seed-oom-enter": [FAILALLOC, 0, ENTER, 0, 0, FAILALLOC, 0, ENTER, 0, 4, FAILALLOC, 0, REENT, 0, 1,
                       CLOSE, 0],
    "seed-oom-errors": [FAILALLOC, 0, CALLBACK, 0, 1, CALLBACK, 0, 1, FAILALLOC, 0, PUSH, 0, 2,
                        CLOSE, 0],
    "seed-oom-group": [CALLBACK, 0, 1, CANCEL, 0, FAILALLOC, 1, CLOSE, 0],
    "seed-oom-new-popall": [FAILALLOC, 0, NEW, CALLBACK, 0, 0, FAILALLOC, 0, POPALL, 0, CLOSE, 0],
    "seed-oom-vars": [FAILALLOC, 0, VARSET, 0, 0, 1, FAILALLOC, 0, CTXRUN, 1, 2, 1, VARSET, 1, 2, 3,
                      FAILALLOC, 1, CTXRUN, 1, 2, 1],
}

def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "corpus/exitstack/fuzz_exitstack"
    os.makedirs(out, exist_ok=True)
    for name, ops in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes(ops))
    print(f"wrote {len(SEEDS)} seeds to {out}")

if __name__ == "__main__":
    main()
