"""One line per test: test id, number of assessments, sha1 of its sorted assessment hashes (usage: README.md)."""
import sys, hashlib, collections
d = collections.defaultdict(list)
for line in open(sys.argv[1]):
    t, h = line.rstrip("\n").split("\t")
    d[t].append(h)
tot = hashlib.sha1()
n = 0
for t in sorted(d):
    hs = sorted(d[t]); n += len(hs)
    th = hashlib.sha1("".join(hs).encode()).hexdigest()
    print(f"{t}\t{len(hs)}\t{th}")
    tot.update((t + th).encode())
print(f"TOTAL {len(d)} test ids, {n} assessments, {tot.hexdigest()}", file=sys.stderr)
