package httpapi

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/tributary-etl/tributary/apiserver"
)

// pythonMain is the module a .tar.gz upload must hold at its root: the
// python runtime runs a directory's main.py (functions/python).
const pythonMain = "main.py"

// maxPythonFiles bounds the members of a .tar.gz upload; a module with more
// files than this is not the small pure-Python package uploads are for.
const maxPythonFiles = 1000

// topLevelProcess finds `def process(` at the start of a line: a module-level
// function, as the runtime calls it. The API server never runs uploaded code,
// so this is the check it can make.
var topLevelProcess = regexp.MustCompile(`(?m)^def[ \t]+process[ \t]*\(`)

// checkArtifact tells, from its first bytes and its file name, what an
// upload is, checks it as that, and returns its kind: a Linux executable
// (any name), a .tar.gz of Python files, or a .py module.
func checkArtifact(filename string, file *io.SectionReader, limit int64) (string, error) {
	magic := make([]byte, 4)
	n, _ := file.ReadAt(magic, 0)
	magic = magic[:n]
	switch {
	case bytes.HasPrefix(magic, []byte("\x7fELF")):
		return apiserver.FunctionGo, checkExecutable(file)
	case bytes.HasPrefix(magic, []byte("\x1f\x8b")):
		return apiserver.FunctionPythonArchive, checkPythonArchive(file, limit)
	case strings.HasSuffix(filename, ".py"):
		src, err := io.ReadAll(file)
		if err != nil {
			return "", err
		}
		return apiserver.FunctionPython, checkPythonModule(filename, src)
	}
	return "", apiserver.FieldErrorf(apiserver.CodeInvalid, "file",
		"not an ELF executable (build Go functions with GOOS=linux), a .py module or a .tar.gz of .py files")
}

// checkPythonModule refuses source that is not UTF-8 text (what python3
// reads by default) or has no top-level process function.
func checkPythonModule(name string, src []byte) error {
	if !utf8.Valid(src) || bytes.IndexByte(src, 0) >= 0 {
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "file", "%s is not UTF-8 Python source", name)
	}
	if !topLevelProcess.Match(src) {
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "file",
			"%s has no top-level `def process(message, consumer_name, metadatas):`", name)
	}
	return nil
}

// checkPythonArchive reads a whole .tar.gz: only directories and regular
// .py files, at relative paths inside the archive, at most limit bytes
// unpacked, with a main.py at the root that defines process. Nomad unpacks
// it into the task's directory, so a path that climbs out is refused, not
// cleaned.
func checkPythonArchive(file io.Reader, limit int64) error {
	bad := func(format string, args ...any) error {
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "file", "bad .tar.gz: "+format, args...)
	}
	gz, err := gzip.NewReader(file)
	if err != nil {
		return bad("%v", err)
	}
	tr := tar.NewReader(gz)
	var unpacked int64
	var members int
	sawMain := false
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return bad("%v", err)
		}
		if members++; members > maxPythonFiles {
			return bad("more than %d members", maxPythonFiles)
		}
		name := strings.TrimPrefix(h.Name, "./")
		clean := path.Clean(name)
		switch {
		case name == "" || name == "." || name == "./":
			continue // the root itself, as `tar -C dir .` writes it
		case path.IsAbs(h.Name) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(h.Name, `\`):
			return bad("member %q is outside the archive: paths must be relative, without ..", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			continue
		case tar.TypeReg:
		default:
			return bad("member %q is not a regular file or a directory (links and devices are refused)", h.Name)
		}
		if !strings.HasSuffix(clean, ".py") {
			return bad("member %q is not a .py file: upload pure-Python modules only", h.Name)
		}
		if unpacked += h.Size; unpacked > limit {
			return apiserver.FieldErrorf(apiserver.CodeTooLarge, "file", "unpacks to more than %d bytes", limit)
		}
		src, err := io.ReadAll(tr)
		if err != nil {
			return bad("%v", err)
		}
		if !utf8.Valid(src) {
			return bad("member %q is not UTF-8 Python source", h.Name)
		}
		if clean == pythonMain {
			sawMain = true
			if err := checkPythonModule(pythonMain, src); err != nil {
				return err
			}
		}
	}
	if !sawMain {
		return bad("no %s at its root: the runtime runs main.py's process", pythonMain)
	}
	return nil
}
