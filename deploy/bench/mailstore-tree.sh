#!/usr/bin/env bash
# mailstore-tree.sh make DIR [FILES] | remove DIR
#
# make writes the mailstore-shaped tree of BenchmarkDirsize under DIR/opt
# (checkscript/dirsize_tree_test.go: /opt-like folder with zextras/store,
# backup, incoming and cache; Carbonio's store layout, volume / mailbox group
# / mailbox / msg / bucket; FILES files, 5,000,000 by default, in about 55,000
# folders; 1 % of the messages hard links, 90 % of the files empty and the
# others under 8 KiB: about 3.5 GB for 5,000,000). remove deletes DIR and
# everything in it. deploy/bench/dirsize.sh makes one and always removes it
# (trap), also when interrupted; run by hand, remove yours the same way.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
case "${1:-}" in
make)
	dir=${2:?usage: mailstore-tree.sh make DIR [FILES]}
	files=${3:-5000000}
	mkdir -p "$dir"
	if [ -e "$dir/opt" ]; then
		echo "mailstore-tree.sh: $dir/opt exists already" >&2
		exit 1
	fi
	# Free space and inodes first: the disk may be shared.
	read -r avail inodes < <(df --output=avail,iavail -B1 "$dir" | tail -1)
	if [ "$avail" -lt $((files * 1000 + (1 << 30))) ] || [ "$inodes" -lt $((files + files / 50 + 100000)) ]; then
		echo "mailstore-tree.sh: not enough room on $dir for $files files ($avail bytes, $inodes inodes free)" >&2
		exit 1
	fi
	cd "$repo"
	DIRSIZE_MAKE="$dir/opt" DIRSIZE_FILES="$files" go test -run '^$' -bench '^BenchmarkDirsizeMakeTree$' \
		-benchtime 1x -timeout 60m ./checkscript | grep '^BenchmarkDirsizeMakeTree' >&2
	;;
remove)
	dir=${2:?usage: mailstore-tree.sh remove DIR}
	rm -rf --one-file-system "$dir"
	;;
*)
	echo "usage: mailstore-tree.sh make DIR [FILES] | remove DIR" >&2
	exit 2
	;;
esac
