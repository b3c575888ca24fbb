# More busybox applets over a tree the script makes (beside applets.sh): ls -la with every
# time set by touch -d (nothing in it differs by nature), od, stat, touch, cp -r, mv, rm -r,
# ln -s, readlink -f, md5sum, sha256sum, seq, uniq, wc, sort, cat, echo and printf (the
# external applets too, through env), mkdir -p, id, uname -s, and date only as plausible.
t=/tmp/cmp-fileutils
rm -rf $t; mkdir -p $t/top/dir/sub/deeper
cd $t/top/dir
env printf 'hello\tworld\n\001\002\377end' > data
env echo 'one two three' > words
seq 3 > three
seq 2 2 10 | sort -r > evens
printf 'b\na\na\nc\nb\nb\n' > dups
chmod 600 words; chmod 751 sub
touch -d @1000000000 data words three evens dups sub/deeper sub . ..
ls -la
ls -la sub
od -c data
od -x data
od -An -tx1 -N 8 data
stat -c '%a %s %F %h %n' data words three
stat -c '%a %F %h %n' sub sub/deeper
stat -c %Y data
touch -d @1234567890 data; stat -c '%Y %X' data
touch new; [ $(stat -c %Y new) -gt 1700000000 ] && echo "new file time plausible"
[ $(date +%s) -gt 1700000000 ] && echo "date plausible"
uname -s
id -u; id -g
printf '%05d|%-4s|%x|%o|%c|%s\n' 42 ab 255 8 xyz "a b"
env printf '%05d|%-4s|%x|%o|%s\n' 42 ab 255 8 "a b"
env echo -n 'no newline'; echo ' then one'
seq 5; seq -s, 1 3 10; seq 3 -1 1
md5sum data words three
sha256sum data words
sort dups | uniq; sort dups | uniq -c; sort dups | uniq -d; sort dups | uniq -u
cat words three
cat data three | wc; wc -l three words; wc -c < data
sort -n evens; sort -rn three
mkdir -p deep/er/est && find deep | sort
cp -r sub copy; find copy | sort
mv copy moved; find moved | sort; [ -e copy ] || echo "copy moved"
mv words moved/; ls moved
ln -s ../dir/data link; readlink link; readlink -f link; head -c 5 link; echo
readlink -f sub/deeper/../../three
ln -s link chain; readlink -f chain
rm -r moved deep; ls
cd /
rm -r $t
[ -e $t ] || echo "cleaned up"
