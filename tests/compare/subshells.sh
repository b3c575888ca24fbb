# Subshells ( ... ) and groups { ...; }: what leaks out of each and what does not.
x=outer
(x=inner; echo "in subshell: $x")
echo "after subshell: $x"
{ x=group; echo "in group: $x"; }
echo "after group: $x"
(cd /tmp && pwd)
pwd
(exit 3); echo "subshell exit -> $?"
( (echo nested; exit 4) ); echo "nested -> $?"
(echo a; echo b) | sort -r
{ echo c; echo d; } | tr a-z A-Z
# A subshell's output redirected as a whole.
(echo one; echo two) > /tmp/cmp-subshells.txt
wc -l < /tmp/cmp-subshells.txt
rm -f /tmp/cmp-subshells.txt
# Functions and variables defined in a subshell stay there.
(f() { echo f-in-sub; }; f; y=set)
type f >/dev/null 2>&1 && echo "f leaked" || echo "f did not leak"
echo "y=[${y-unset}]"
# $( ) is a subshell too.
z=$(x=changed; echo "$x"); echo "z=$z x=$x"
