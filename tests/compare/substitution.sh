# Command substitution: $( ), backticks, nesting, trailing newlines, statuses.
a=$(echo hello)
b=`echo world`
echo "$a $b"
echo "nested: $(echo "$(echo "$(echo deep)")")"
echo "backticks nested: `echo \`echo inner\``"
c=$(printf 'x\n\n\n'); echo "trailing newlines stripped: [$c]"
d=$(printf 'l1\nl2'); echo "inner newline kept: [$d]"
e=$(false); echo "status of assignment from false: $?"
f=$(exit 6); echo "status of assignment from exit 6: $?"
echo "arith in subst: $(( $(echo 6) * $(echo 7) ))"
n=$(seq 1 10 | wc -l); echo "count=$n"
for w in $(echo alpha beta gamma); do echo "word $w"; done
echo "quoted keeps spaces: [$(printf 'a  b')]"
set -- $(echo one two three); echo "args $# first $1 last $3"
echo "length: ${#a}"
g="$(cd /tmp; pwd)"; echo "cd in subst: $g, here: $(pwd)"
