"""Compare two digests (before, after) on the test files present in the second (usage: README.md)."""
import sys
def load(p):
    d = {}
    for line in open(p):
        t, n, h = line.rstrip("\n").split("\t"); d[t] = (n, h)
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
files = set(x.split("::")[0] for x in b)  # only test files present in the second run
same = diff = 0
for t in sorted(set(a) | set(b)):
    if t.split("::")[0] not in files: continue
    if a.get(t) == b.get(t): same += 1
    else:
        diff += 1; print("DIFF", t, a.get(t), b.get(t))
print(f"same {same} diff {diff}")
