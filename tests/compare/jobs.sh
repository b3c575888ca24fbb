# Job control in a script: jobs, %N job specs, kill and wait on them.
sleep 10 &
sleep 10 &
jobs | wc -l
# busybox sh reports a job killed by a signal ("Terminated", on stderr) when it notices the
# death, which may be before the wait or in it - a race on Linux too: the report is dropped.
{ kill %1; wait %1; } 2>/dev/null; echo "job 1 -> $?"
kill %2
wait; echo "after wait"
sleep 0.1 &
wait %1 2>/dev/null; echo "new job 1 -> $?"
jobs
echo "no jobs left"
