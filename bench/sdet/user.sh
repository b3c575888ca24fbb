# user.sh DIR LOOPS: one "user" of the SDET-like benchmark (bench/sdet.c starts N of
# these at once under busybox sh). Each loop runs a fixed mix of common commands —
# mkdir, awk, sed, cp, ls, cat, grep, sort, uniq, wc, a small compile-like pipeline,
# rm — over its own directory DIR, and checks what they produced, so a wrong answer
# fails the run (exit 1) instead of being timed.
#
# The amount of work is fixed by the constants below and LOOPS; the xtask passes the
# same LOOPS in --quick and full runs (xtask/src/bench/catalog.rs), so their
# scripts/hour compare.
set -e
dir=$1
loops=$2
# Lines in each generated source file, and the figures the mix must reproduce.
LINES=400
EXPECT_ALL=1200         # lines of the three sources together
EXPECT_MATCHES=57       # lines of the first two sources whose "alpha" is alpha3
EXPECT_SORTED=800       # distinct lines of the three sources (a.txt = c.txt)
EXPECT_PROGRAM="a.txt 400 20018 b.txt 400 20018 c.txt 400 20018"

fail() { echo "user.sh $dir: $1" >&2; exit 1; }

rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"
i=0
while [ "$i" -lt "$loops" ]; do
    mkdir src obj
    # "Edit" three source files.
    awk -v n="$LINES" 'BEGIN { for (i = 1; i <= n; i++) printf "line %d alpha%d beta %d\n", i, i % 7, (i * 37) % 101 }' > src/a.txt
    sed 's/alpha/gamma/' src/a.txt > src/b.txt
    cp src/a.txt src/c.txt
    # Look around.
    ls -l src > obj/listing
    [ "$(wc -l < obj/listing)" -eq 4 ] || fail "ls -l listed $(cat obj/listing)"
    cat src/a.txt src/b.txt src/c.txt > obj/all
    [ "$(wc -l < obj/all)" -eq "$EXPECT_ALL" ] || fail "cat: $(wc -l < obj/all) lines"
    matches=$(grep -c 'alpha3 ' src/a.txt src/b.txt | awk -F: '{ s += $2 } END { print s }')
    [ "$matches" -eq "$EXPECT_MATCHES" ] || fail "grep found $matches"
    sort -k4 -n obj/all | uniq > obj/sorted
    [ "$(wc -l < obj/sorted)" -eq "$EXPECT_SORTED" ] || fail "sort|uniq: $(wc -l < obj/sorted) lines"
    # "Compile" each source (preprocess with sed, compile with awk), then "link".
    for f in src/*.txt; do
        name=${f#src/}
        sed -e 's/beta/#/' "$f" | awk -v f="$name" '{ s += $NF } END { print f, NR, s }' > "obj/$name.o"
    done
    program=$(cat obj/*.o | sort | tr '\n' ' ')
    [ "$program" = "$EXPECT_PROGRAM " ] || fail "link produced [$program]"
    rm -rf src obj
    i=$((i + 1))
done
cd /
rm -rf "$dir"
