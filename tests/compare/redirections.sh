# Redirections: > >> < 2>&1, here-documents, descriptors of our own.
t=/tmp/cmp-redir
rm -rf $t; mkdir $t
echo first > $t/f
echo second >> $t/f
cat < $t/f
wc -l < $t/f
echo replaced > $t/f; cat $t/f
# stderr into stdout, and the order of the two.
{ echo out; echo err >&2; } 2>&1 | sort
{ echo to-stderr >&2; } 2>$t/e; echo "captured: $(cat $t/e)"
ls /nonexistent-dir > $t/o 2>&1; echo "ls status $?, lines $(wc -l < $t/o)"
echo discarded > /dev/null; echo "after /dev/null"
# Here-documents: expanded, quoted, with tabs stripped.
name=world
cat <<EOT
hello $name
sum $((1 + 2))
EOT
cat <<'EOT'
not expanded: $name $(echo no)
EOT
cat <<-EOT
	tabs stripped
		both of them
	EOT
tr a-z A-Z <<EOT
here-doc into a pipe stage
EOT
# Descriptors: exec to open, write and close our own.
exec 3> $t/fd3
echo via-fd3 >&3
echo again >&3
exec 3>&-
cat $t/fd3
exec 4< $t/fd3
read line <&4; echo "read from fd4: $line"
read line <&4; echo "read from fd4: $line"
exec 4<&-
# Reading a file line by line.
printf 'x 1\ny 2\n' > $t/kv
while read k v; do echo "$k=$v"; done < $t/kv
rm -rf $t
