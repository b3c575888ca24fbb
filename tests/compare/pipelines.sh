# Pipelines: several stages, builtins inside a pipeline, the status of a pipeline.
# Run under bash and busybox sh on Linux and K42 (xtask/src/compare.rs); the output must match.
printf '%s\n' pear apple fig apple pear apple | sort | uniq -c | sort -rn | head -2
echo "one two three four" | tr ' ' '\n' | grep -v two | wc -l
seq 1 20 | grep 1 | tr '\n' ' ' | sed 's/ $//'; echo
printf 'a:1\nb:2\nc:3\n' | cut -d: -f2 | paste -s -d+ | sed 's/^/sum /'
# A builtin loop in the middle of a pipeline.
printf '3\n1\n2\n' | while read n; do echo "n=$n"; done | sort
# A pipeline's status is its last stage's.
false | true; echo "false|true -> $?"
true | false; echo "true|false -> $?"
! true | false; echo "! true|false -> $?"
# A long pipeline of cats, the data passing through every stage.
echo through | cat | cat | cat | cat | cat | cat | cat | cat
# A pipeline larger than the pipe's buffer: every byte arrives.
seq 1 20000 | cat | wc -c
seq 1 5000 | awk '{ s += $1 } END { print "awk sum", s }'
