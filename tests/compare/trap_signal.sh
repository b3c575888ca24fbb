# trap on signals: a handler for INT, TERM and USR1, signals sent to the shell itself and to a
# child, ignored signals.
trap 'echo "caught INT"' INT
kill -INT $$
echo "after INT"
trap 'echo "caught USR1"' USR1
kill -USR1 $$
echo "after USR1"
trap '' TERM
kill -TERM $$
echo "TERM ignored"
trap - TERM
sh -c 'kill -TERM $$; echo not reached'
echo "child killed by TERM -> $?"
sleep 10 &
# busybox sh reports the killed job ("Terminated", on stderr) only if it reaps it inside the
# wait; if SIGCHLD comes before the kill builtin returns, it reaps it silently - a race on
# Linux too (see jobs.sh): the report is dropped.
{ kill $!; wait $!; } 2>/dev/null
echo "background sleep killed -> $?"
kill -0 $$ && echo "kill -0 on ourselves works"
trap 'echo "caught INT, leaving"; exit 7' INT
kill -INT $$
echo "not reached"
