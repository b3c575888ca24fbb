# Variables, parameter expansion, positional parameters and arithmetic.
v=value
echo "$v ${v} ${#v}"
echo "default: ${unset_var:-dflt} still unset: [${unset_var}]"
echo "assign: ${set_me:=assigned} now: $set_me"
echo "alternate: ${v:+alt} [${unset_var:+alt}]"
p=/usr/local/lib/file.tar.gz
echo "${p#*/} | ${p##*/} | ${p%.*} | ${p%%.*}"
echo "$((1 + 2 * 3)) $(((1 + 2) * 3)) $((17 / 5)) $((17 % 5)) $((-7 / 2)) $((2 << 4))"
echo "$((10 > 3)) $((3 == 4)) $((5 & 3)) $((5 | 3)) $((5 ^ 3)) $((!0))"
i=0; i=$((i + 1)); i=$((i * 10)); echo "i=$i"
n=5; : $((n += 3)); echo "n=$n"
x=0x1f; echo "hex $((x)) octal $((010))"
set -- a "b c" d
echo "count $#"
for a in "$@"; do echo "[$a]"; done
for a in $*; do echo "<$a>"; done
shift; echo "after shift: $1 / $#"
IFS=:; set -- $(echo x:y:z); echo "split on colon: $1 $2 $3"; unset IFS
unset v; echo "unset: [${v-gone}]"
readonly r=fixed; echo "readonly $r"
export E=exported; sh -c 'echo "child sees $E"'
echo "done"
