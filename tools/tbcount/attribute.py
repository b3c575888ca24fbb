# Per-function instruction counts from two tbcount runs A and B of one workload that differ
# only in how many operations they do (B does CALLS more): B minus A, each block attributed to
# the kernel (upper half) or to the client or server program whose bytes match at its address,
# symbolized with nm. Usage: attribute.py DIR [TOP] [CALLS]; DIR holds A/ and B/, each with
# tb.txt and the k42-kernel, ppcbench and echo binaries of that run (README.md).
import subprocess, bisect, collections, sys, struct
CALLS = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
DIR = sys.argv[1] if len(sys.argv) > 1 else '.'
def syms(path):
    out = subprocess.run(["nm", "-C", "--defined-only", "-n", path], capture_output=True, text=True).stdout
    a, n = [], []
    for line in out.splitlines():
        p = line.split(" ", 2)
        if len(p) == 3 and p[1] in "tTwW":
            a.append(int(p[0], 16)); n.append(p[2])
    return a, n
def segs(path):
    # (vaddr, offset, filesz) of PT_LOAD segments, from readelf.
    out = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True).stdout
    res = []
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "LOAD":
            res.append((int(f[2], 16), int(f[1], 16), int(f[4], 16)))
    return res, open(path, "rb").read()
def bytes_at(img, v, n):
    s, data = img
    for va, off, fs in s:
        if va <= v < va + fs:
            o = off + (v - va); return data[o:o + n].hex()
    return None
def images(run):
    root = f"{DIR}/{run}"
    return (syms(f"{root}/k42-kernel"), syms(f"{root}/ppcbench"), syms(f"{root}/echo"),
            segs(f"{root}/ppcbench"), segs(f"{root}/echo"))
def look(t, a):
    i = bisect.bisect_right(t[0], a) - 1
    return (t[1][i], a - t[0][i]) if i >= 0 else ("?", a)
def where(img, v, b):
    # (side, function, offset in it): blocks of A and B are matched by these and their bytes,
    # not by address, so code that moved between the two builds (A and B differ in a constant
    # of ppcbench, which can shift the functions after it) is not counted whole.
    K, C, E, CI, EI = img
    if v >= 0xffff800000000000:
        return ("kernel", "K ") + look(K, v)
    cb, eb = bytes_at(CI, v, len(b) // 2), bytes_at(EI, v, len(b) // 2)
    if cb == b and eb != b: return ("client", "client ") + look(C, v)
    if eb == b and cb != b: return ("server", "server ") + look(E, v)
    (cn, co), (en, eo) = look(C, v), look(E, v)
    return ("either", "either ", cn + " | " + en, co)
def load(run):
    img = images(run)
    d = {}
    for line in open(f"{DIR}/{run}/tb.txt"):
        p = line.split()
        v, n, c = int(p[0], 16), int(p[1]), int(p[2]); b = p[3] if len(p) > 3 else ""
        s, prefix, name, off = where(img, v, b)
        key = (s, prefix + name, off, b)
        old = d.get(key, (n, 0)); d[key] = (n, old[1] + c)
    return d
A, B = load("A"), load("B")
agg = collections.Counter(); side = collections.Counter()
for key, (n, c) in B.items():
    d = c - A.get(key, (n, 0))[1]
    if d <= 0: continue
    s, name = key[0], key[1]; w = n * d
    agg[name.replace("k42_", "")[:120]] += w; side[s] += w
for s, w in side.items(): print(f"{s}: {w / CALLS:.0f}")
print(f"total: {sum(side.values()) / CALLS:.0f}")
for k, w in agg.most_common(int(sys.argv[2]) if len(sys.argv) > 2 else 50):
    print(f"{w / CALLS:7.1f}  {k}")
