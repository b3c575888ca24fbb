# trap on EXIT: runs at the end of the script and of subshells, without any signal.
trap 'echo "exit trap runs, status $?"' EXIT
echo "main body"
(trap 'echo "subshell exit trap"' EXIT; echo "in subshell")
(trap 'echo "not run: reset"' EXIT; trap - EXIT; echo "trap reset in subshell")
out=$(trap 'echo from-subst-trap' EXIT; echo body)
echo "substitution saw: $(echo "$out" | tr '\n' ' ')"
f() { echo "function runs before the trap"; }
f
exit 6
