# Functions: arguments, return values, local variables, recursion.
greet() { echo "hello, $1 ($# args)"; }
greet world
greet a b c
status() { return "$1"; }
status 0; echo "returned $?"
status 42; echo "returned $?"
fact() {
    if [ "$1" -le 1 ]; then echo 1; return; fi
    echo $(( $1 * $(fact $(( $1 - 1 ))) ))
}
echo "5! = $(fact 5)"
echo "10! = $(fact 10)"
counter=0
bump() { counter=$((counter + 1)); }
bump; bump; bump; echo "counter=$counter"
scoped() { local counter=99; echo "inside: $counter"; }
scoped; echo "outside: $counter"
fib() {
    local n=$1
    if [ $n -lt 2 ]; then echo $n; return; fi
    echo $(( $(fib $((n - 1))) + $(fib $((n - 2))) ))
}
echo "fib 10 = $(fib 10)"
# A function in a pipeline, and a function reading its stdin.
upper() { tr a-z A-Z; }
echo shouted | upper
lines() { n=0; while read l; do n=$((n + 1)); done; echo "$n lines"; }
seq 1 7 | lines
args() { for a; do printf '(%s)' "$a"; done; echo; }
args "one two" three "" four
