package registrar

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Staged delivery of the agent config fragment. The fragment is agent
// configuration: whoever writes a file in the agent's config dir can make
// the agent run any command as its own user (a script check) and, at the
// agent's next restart, change any of its settings. So the packaged daemon
// gets no write access to that folder at all. It writes the fragment into a
// staging folder of its own; carbonio-health-fragment.service (root, started
// by a path unit when the staged file changes, `carbonio-health
// install-fragment`) checks it against InstallPolicy and installs it into
// the agent's config dir; the daemon waits until the installed file is what
// it staged, then asks the agent to reload.

// fragmentInstallWait bounds how long the daemon waits for the installer.
const fragmentInstallWait = 15 * time.Second

// fragmentRestage is how often a staged file that is not installed yet is
// written again, so that a change the path unit missed (one made while the
// installer was running) triggers it anew.
const fragmentRestage = time.Second

// errFragmentNotInstalled is returned when the installer did not install
// the staged fragment in time.
var errFragmentNotInstalled = errors.New("the staged agent config fragment was not installed")

// stagedFragment delivers the fragment through a staging folder.
type stagedFragment struct {
	// Stage is the staging folder; Installed the fragment's path in the
	// agent's config dir (read only).
	Stage, Installed string
	// Wait bounds the wait for the installer (fragmentInstallWait when 0).
	Wait time.Duration
}

// write makes the installed fragment hold content (nil: no file) and
// reports whether it changed. It returns once the installer put it there,
// or with errFragmentNotInstalled naming what to look at.
func (s stagedFragment) write(ctx context.Context, content []byte) (bool, error) {
	if ok, err := holds(s.Installed, content); err != nil || ok {
		return false, err
	}
	staged := filepath.Join(s.Stage, FragmentName)
	wait := s.Wait
	if wait == 0 {
		wait = fragmentInstallWait
	}
	deadline := time.Now().Add(wait)
	for {
		if err := stage(staged, content); err != nil {
			return false, err
		}
		next := time.Now().Add(fragmentRestage)
		for time.Now().Before(next) {
			if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
				return false, err
			}
			ok, err := holds(s.Installed, content)
			if err != nil {
				return false, err
			}
			if ok {
				return true, nil
			}
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("%w into %s within %s: is carbonio-health-fragment.path active, and did carbonio-health-fragment.service accept %s? (journalctl -u carbonio-health-fragment.service)",
				errFragmentNotInstalled, s.Installed, wait, staged)
		}
	}
}

// stageUsable says why the staged delivery cannot work: the staging
// folder must take new files, the agent's config dir be readable (the
// daemon compares what the installer put there).
func stageUsable(stage, agentDir string) error {
	if err := dirWritable(stage); err != nil {
		return fmt.Errorf("staging folder %s: %w", stage, err)
	}
	if _, err := holds(filepath.Join(agentDir, FragmentName), nil); err != nil {
		return err
	}
	return nil
}

// holds reports whether path holds content (nil: does not exist).
func holds(path string, content []byte) (bool, error) {
	have, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return content == nil, nil
	case err != nil:
		return false, fmt.Errorf("read agent config fragment: %w", err)
	}
	return content != nil && bytes.Equal(have, content), nil
}

// stage writes content to path by rename (a new inode each time, which is
// what the path unit sees), or removes path when content is nil.
func stage(path string, content []byte) error {
	if content == nil {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove staged agent config fragment: %w", err)
		}
		return nil
	}
	if err := renameInto(path, content); err != nil {
		return fmt.Errorf("stage agent config fragment: %w", err)
	}
	return nil
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
