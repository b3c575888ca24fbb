# set -e: which failures end the script and which do not.
set -e
false || echo "a failure on the left of || does not end it"
if false; then :; else echo "nor a failing if condition"; fi
! true
echo "nor a negated command"
while false; do :; done
echo "nor a loop condition"
x=$(echo fine)
echo "substitution $x"
sh -c 'set -e; false; echo "not printed"' || echo "another shell with set -e ends at its failure: $?"
( false; echo "in a subshell on the left of ||, set -e is off too" ) || echo "not this"
f() { false; echo "and in a function called on the left of ||"; }
f || echo "not this either"
echo "before the failure"
sh -c 'exit 4'
echo "never printed"
