# Loops and conditionals.
for i in 1 2 3; do echo "for $i"; done
i=0; while [ $i -lt 3 ]; do echo "while $i"; i=$((i + 1)); done
until [ $i -eq 0 ]; do i=$((i - 1)); echo "until $i"; done
for i in 1 2 3 4 5 6; do
    [ $i -eq 2 ] && continue
    [ $i -eq 5 ] && break
    echo "loop $i"
done
for a in x y; do for b in 1 2 3; do
    [ $b -eq 2 ] && continue 2
    echo "$a$b"
done; done
for a in x y; do for b in 1 2; do echo "$a$b"; break 2; done; done
for f in apple.c b.txt Makefile x.h other; do
    case $f in
        *.c|*.h) echo "$f: C" ;;
        *.txt) echo "$f: text" ;;
        [A-Z]*) echo "$f: capitalised" ;;
        *) echo "$f: other" ;;
    esac
done
n=15
if [ $n -lt 10 ]; then echo small; elif [ $n -lt 20 ]; then echo medium; else echo large; fi
[ -d /tmp ] && echo "/tmp is a directory"
[ -f /tmp ] || echo "/tmp is not a regular file"
[ -e /nonexistent ] || echo "/nonexistent does not exist"
[ -z "" ] && [ -n x ] && echo "empty and non-empty"
[ abc = abc ] && [ abc != abd ] && echo "string compare"
[ 10 -gt 9 ] && [ 3 -ge 3 ] && [ 2 -le 2 ] && [ 1 -ne 2 ] && echo "numeric compare"
test -x /bin/sh && echo "/bin/sh is executable"
if ! false; then echo "negated"; fi
true && echo "and runs" || echo "not this"
false && echo "not this" || echo "or runs"
[ "$(echo yes)" = yes ] && echo "test with substitution"
for i in $(seq 3 -1 1); do printf '%s ' $i; done; echo liftoff
