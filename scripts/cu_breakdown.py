#!/usr/bin/env python3
"""Where each Verdict instruction's compute units go: its cross-program
invocations against its own work, from the runtime's log of a test run on
an SBF build, kept as docs/compute-units.md ("How to measure") shows:
RUST_LOG=solana_runtime::message_processor::stable_log=debug, one test at
a time, the output in test.log.

    python3 scripts/cu_breakdown.py test.log [Instruction ...]

Prints a Markdown table: per instruction (by the name Anchor logs), the
median transaction's units, what its CPIs consumed (SPL Token's work; the
system program's builtins log none), and the rest, the program's own work,
which includes the cost of issuing each CPI (about 1,000 units base plus
the accounts passed).
"""
import collections
import re
import sys

PROGRAMS = {
    "11111111111111111111111111111111": "system",
    "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA": "token",
}


def transactions(path):
    """(instruction name, units consumed, [(callee, units)]) per top-level call that succeeded."""
    stack = []  # [program, instruction name, units, CPIs]
    for raw in open(path, errors="replace"):
        if "stable_log]" not in raw:
            continue
        line = raw.split("stable_log] ", 1)[1]
        if m := re.search(r"Program (\w+) invoke \[\d+\]", line):
            stack.append([m.group(1), None, 0, []])
        elif (m := re.search(r"Program log: Instruction: (\w+)", line)) and stack:
            if stack[-1][1] is None:
                stack[-1][1] = m.group(1)
        elif (m := re.search(r"Program \w+ consumed (\d+) of", line)) and stack:
            stack[-1][2] = int(m.group(1))
        elif (m := re.search(r"Program \w+ (success|failed)", line)) and stack:
            program, name, units, cpis = stack.pop()
            if stack:
                stack[-1][3].append((f"{PROGRAMS.get(program, program[:8])} {name or ''}".strip(), units))
            elif name and m.group(1) == "success" and program not in PROGRAMS:
                yield name, units, cpis


def main():
    runs = collections.defaultdict(list)
    for name, units, cpis in transactions(sys.argv[1]):
        runs[name].append((units, cpis))
    wanted = sys.argv[2:] or sorted(runs)
    print("| instruction | n | median | CPIs | CPI units | own |")
    print("|---|---:|---:|---|---:|---:|")
    for name in wanted:
        if not runs.get(name):
            continue
        rows = sorted(runs[name], key=lambda r: r[0])
        units, cpis = rows[len(rows) // 2]
        spent = sum(u for _, u in cpis)
        kinds = collections.Counter(c for c, u in cpis if u)
        listed = ", ".join(f"{k}{f' ×{n}' if n > 1 else ''}" for k, n in sorted(kinds.items()))
        print(f"| `{name}` | {len(rows)} | {units:,} | {listed or '-'} | {spent:,} | {units - spent:,} |")


if __name__ == "__main__":
    main()
