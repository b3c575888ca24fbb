# Exit statuses and $?: builtins, programs, missing and unexecutable commands, exit itself.
true; echo "true -> $?"
false; echo "false -> $?"
sh -c 'exit 7'; echo "sh -c exit 7 -> $?"
sh -c 'exit 300'; echo "sh -c exit 300 -> $?"
/bin/false; echo "/bin/false -> $?"
grep -q nothing-here /etc/passwd; echo "grep no match -> $?"
grep -q root /etc/passwd; echo "grep match -> $?"
nosuchcommand-anywhere 2>/dev/null; echo "missing command -> $?"
t=/tmp/cmp-status; rm -rf $t; mkdir $t
printf 'echo never\n' > $t/noexec; chmod 644 $t/noexec
$t/noexec 2>/dev/null; echo "not executable -> $?"
printf '#!/bin/sh\nexit 9\n' > $t/script; chmod 755 $t/script
$t/script; echo "script -> $?"
rm -rf $t
echo "$?"
(exit 255); echo "exit 255 -> $?"
x=$(exit 12) || echo "failed substitution -> $?"
if (exit 1); then :; else echo "if saw failure"; fi
exit 3
