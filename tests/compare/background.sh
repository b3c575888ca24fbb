# Background jobs: &, wait, $! and the statuses wait returns (no signals involved).
t=/tmp/cmp-bg
rm -rf $t; mkdir $t
(echo first > $t/1) &
(echo second > $t/2) &
(echo third > $t/3) &
wait
cat $t/1 $t/2 $t/3
sleep 0.1 &
pid=$!
case $pid in ''|*[!0-9]*) echo "\$! is not a pid: $pid" ;; *) echo "\$! is a pid" ;; esac
wait $pid; echo "wait sleep -> $?"
(exit 5) &
wait $!; echo "wait for exit 5 -> $?"
sh -c 'exit 9' &
p9=$!
(sleep 0.1; exit 2) &
p2=$!
wait $p2; echo "second job -> $?"
wait $p9; echo "first job -> $?"
# A background pipeline, its output collected in a file.
seq 1 100 | tail -n 3 > $t/pipe &
wait $!
cat $t/pipe
# Jobs running at once, each appending; sorted afterwards.
for i in 1 2 3 4; do (echo "job $i" >> $t/all) & done
wait
sort $t/all
[ "$!" != "$pid" ] && echo "\$! changed with each job"
rm -rf $t
