package checkscript

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkDirsizeAgainstFresh hunts for wrong figures on a big tree: the
// tree kept by a check is compared, after each round of 1 % of the files
// changed, with a tree walked afresh, first by total, then inode by inode
// of the inodes with several links (the figures' hard part); on a
// difference it names the inode, its paths and the changes that touched
// them (the change child logs each one), and stops. $DIRSIZE_TREE is a
// tree made by deploy/bench/mailstore-tree.sh with $DIRSIZE_FILES files;
// $DIRSIZE_ROUNDS rounds (10) from seed $DIRSIZE_SEED (100), the next seed
// each round or, with $DIRSIZE_SEED_STEP=0, the same (the same files
// appended to again). The round's writes are written back (sync) before
// the comparison; a difference must be gone once the keeper's look-ups
// after writeback are due. It found the link renamed before its search
// (TestDirsizeLinkThenRenameBeforeTheSearch) and the extent-tree blocks
// of writeback (TestDirsizeBlocksAddedAtWriteback).
//
//	DIRSIZE_TREE=/big/opt go test -run '^$' -bench '^BenchmarkDirsizeAgainstFresh$' -benchtime 1x -timeout 3h ./checkscript
func BenchmarkDirsizeAgainstFresh(b *testing.B) {
	root := os.Getenv("DIRSIZE_TREE")
	if root == "" {
		b.Skip("needs $DIRSIZE_TREE")
	}
	files, logs := benchEnvInt("DIRSIZE_FILES", 5000000), b.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newDirsize(b, "-p", root, "--rate", "0")
	c.Start(ctx)
	measured(b, c)
	first, step := benchEnvInt("DIRSIZE_SEED", 100), 1
	if os.Getenv("DIRSIZE_SEED_STEP") == "0" {
		step = 0 // the same files changed again each round
	}
	for round := 0; round < benchEnvInt("DIRSIZE_ROUNDS", 10); round++ {
		seed := first + round*step
		cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkDirsizeChangeChild$", "-test.benchtime=1x")
		cmd.Env = append(os.Environ(), fmt.Sprintf("DIRSIZE_CHANGE=%d:%d:%d:%s", files, files/100, seed, root),
			"DIRSIZE_CHANGE_LOG="+filepath.Join(logs, fmt.Sprintf("change-%d.log", seed)))
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("change child: %v\n%s", err, out)
		}
		changed := time.Now()
		syscall.Sync()                                              // written back now: the fresh walk's tree does not change under it
		time.Sleep(time.Duration(round%3) * 500 * time.Millisecond) // right after, or between two runs
		kept, fresh, h := againstFresh(b, c, root)
		benchLogf(b, "round %d (seed %d): kept %d B, %d files; fresh %d B, %d files", round+1, seed, kept.Bytes, kept.Files, fresh.Bytes, fresh.Files)
		if kept.Bytes != fresh.Bytes || kept.Files != fresh.Files {
			// Blocks the writeback gave files looked up before it are
			// counted once the keeper looks them up again.
			h.keeper().cancel()
			waitWriteback(changed)
			kept, fresh, h = againstFresh(b, c, root)
			benchLogf(b, "round %d, once writeback was due: kept %d B, %d files; fresh %d B, %d files", round+1, kept.Bytes, kept.Files, fresh.Bytes, fresh.Files)
		}
		if kept.Bytes != fresh.Bytes || kept.Files != fresh.Files {
			compareLinked(b, root, logs, c.h.keeper().t, h.keeper().t)
			h.keeper().cancel()
			b.FailNow()
		}
		h.keeper().cancel()
	}
}

// againstFresh measures root with the kept tree of c, then with a tree
// walked afresh (h, which the caller cancels).
func againstFresh(b *testing.B, c *dirsizeCheck, root string) (kept, fresh dirFigure, h *dirHandle) {
	kept = measured(b, c)
	h = (&dirTrees{}).join(root, c.opts)
	return kept, measured(b, &dirsizeCheck{path: root, h: h}), h
}

// compareLinked logs the inodes the fresh tree holds more names of as
// links than the kept one (the others it holds as single-link files, so
// counted again), with their paths and the changes that named them.
func compareLinked(b *testing.B, root, logs string, kept, fresh *dirTree) {
	for fat, fl := range fresh.links.places {
		var names uint32
		if at, ok := kept.links.find(fl.ino()); ok {
			names = kept.links.places[at].names
		}
		if fl.names == 0 || names >= fl.names {
			continue
		}
		out, _ := exec.Command("find", root, "-xdev", "-inum", fmt.Sprint(fl.ino())).CombinedOutput()
		benchLogf(b, "inode %d (%d blocks): %d names as links, %d in the kept tree: %s", fl.ino(), fresh.links.blocks(uint32(fat)), fl.names, names, out)
		for _, p := range strings.Fields(string(out)) {
			rel := strings.TrimPrefix(filepath.Dir(p), root+"/")
			out, _ := exec.Command("sh", "-c", fmt.Sprintf("grep -h '%s' %s/change-*.log | head -20", rel, logs)).CombinedOutput()
			benchLogf(b, "changes naming %s:\n%s", rel, out)
		}
	}
}
