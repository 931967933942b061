#!/usr/bin/env python3
"""Writes N sequence-numbered lines (argv[1], default endless) as fast as it can,
each 'line NNNNNNNNN <padding>'; used to prove that no byte is lost."""
import os
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else -1
pad = "x" * (int(sys.argv[2]) if len(sys.argv) > 2 else 40)
i = 0
batch = []
while n < 0 or i < n:
    batch.append("line %09d %s\n" % (i, pad))
    i += 1
    if len(batch) == 64 or i == n:
        os.write(1, "".join(batch).encode())
        batch = []
