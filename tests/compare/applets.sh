# External commands: busybox applets in pipelines, over files in /tmp.
t=/tmp/cmp-applets
rm -rf $t; mkdir -p $t/sub/deeper
printf 'cherry 3\napple 10\nbanana 7\napple 2\n' > $t/fruit
printf 'x\n' > $t/sub/a.txt
printf 'y\ny\n' > $t/sub/deeper/b.txt
printf '' > $t/sub/empty.log
sort $t/fruit
sort -k2 -n $t/fruit
sort -u -k1,1 $t/fruit | cut -d' ' -f1
wc -l < $t/fruit; wc -w < $t/fruit; wc -c < $t/fruit
grep -c apple $t/fruit
grep -n an $t/fruit
grep -v apple $t/fruit | sed 's/ [0-9]*$//'
sed -n '2,3p' $t/fruit
sed 's/apple/APPLE/g; s/[0-9]/#/' $t/fruit
awk '{ total[$1] += $2 } END { for (k in total) print k, total[k] }' $t/fruit | sort
awk -F' ' 'NR % 2 == 0 { print NR": "$1 }' $t/fruit
tr 'a-z' 'A-Z' < $t/fruit | head -1
tr -d 'aeiou' < $t/fruit | tail -1
cut -c1-3 $t/fruit
head -n 2 $t/fruit; tail -n 1 $t/fruit
cut -d' ' -f1 $t/fruit | sort | uniq -c | sort -k2
printf '1\n2\n3\n4\n5\n' | xargs echo
printf '1\n2\n3\n4\n5\n' | xargs -n 2 echo pair
find $t -type f | sort
find $t -name '*.txt' | sort | xargs cat
find $t -type d | sort | sed "s|^$t|T|"
find $t -type f -size 0 | sed "s|^$t|T|"
ls $t/sub | sort
basename $t/sub/a.txt .txt; dirname $t/sub/a.txt
expr 6 \* 7
rm -rf $t
[ -e $t ] || echo "cleaned up"
