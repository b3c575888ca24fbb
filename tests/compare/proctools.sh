# busybox's /proc readers (top, free, uptime, pidof, ls and readlink of /proc/self/fd,
# cat /proc/self/maps) and /proc's system files, through what does not differ by nature
# between boots: headers, layouts, names and counts (not times, pids or sizes).
t=/tmp/cmp-proctools
rm -rf $t; mkdir -p $t
top -b -n 1 > $t/top; echo "top: $?"
head -n 4 $t/top | cut -d: -f1
free > $t/free; echo "free: $?"
cut -c1-6 $t/free
head -n 1 $t/free
uptime > $t/uptime; echo "uptime: $?"
grep -c ' up .*,  load average: [0-9.]*, [0-9.]*, [0-9.]*$' $t/uptime
pidof no-such-program; echo "pidof: $?"
cut -d' ' -f1-3 /proc/mounts
readlink /proc/mounts
grep -x 'nodev.proc' /proc/filesystems
grep -x 'nodev.ramfs' /proc/filesystems
head -c 14 /proc/version; echo
exec 5< /etc/passwd
readlink /proc/self/fd/5
ls -l /proc/self/fd/5 | sed 's/^\(l[-rwx]*\) .* -> /\1 -> /'
ls /proc/self/fd | grep -c '^5$'
exec 5<&-
cat /proc/self/maps > $t/maps; echo "cat maps: $?"
grep -c '\[stack\]$' $t/maps
grep -c ' /bin/busybox$' $t/maps | sed 's/^[1-9][0-9]*$/some/'
sed -n 's/^[0-9a-f]*-[0-9a-f]* \(....\) .*/\1/p' $t/maps | grep -c -v '^[r-][w-][x-][ps]$'
cpus=$(grep -c '^cpu[0-9]' /proc/stat); procs=$(grep -c '^processor' /proc/cpuinfo)
[ "$cpus" = "$procs" ] && echo "cpuinfo and stat agree"
sed -n 's/^\(cpu\|intr\|ctxt\|btime\|processes\|procs_running\|procs_blocked\|softirq\) .*/\1/p' /proc/stat | uniq
ls /proc/self/task | grep -c .
rm -rf $t
[ -e $t ] || echo "cleaned up"
