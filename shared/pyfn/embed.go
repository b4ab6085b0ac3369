package pyfn

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The tributary Python package travels inside every binary that imports
// pyfn, so a Nomad client needs python3 and nothing else.
//
//go:embed tributary/*.py
var pkg embed.FS

// unpack writes the tributary package under a new temporary directory and
// returns that directory, the one to put on PYTHONPATH.
func unpack() (string, error) {
	dir, err := os.MkdirTemp("", "tributary-python-")
	if err != nil {
		return "", err
	}
	err = fs.WalkDir(pkg, "tributary", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			if err == nil {
				err = os.MkdirAll(filepath.Join(dir, path), 0o755)
			}
			return err
		}
		b, err := pkg.ReadFile(path)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, path), b, 0o644)
		}
		return err
	})
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("unpack the tributary Python package: %w", err)
	}
	return dir, nil
}
