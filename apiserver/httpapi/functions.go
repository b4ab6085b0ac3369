package httpapi

import (
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/mysql"
)

var (
	functionName    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	functionVersion = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$`)
	hexSHA256       = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

type functionJSON struct {
	Name        string    `json:"name"`
	Version     string    `json:"version"`
	SHA256      string    `json:"sha256"`
	SizeBytes   int64     `json:"size_bytes"`
	CreatedAt   time.Time `json:"created_at"`
	ArtifactURL string    `json:"artifact_url"`
	UploadedBy  *string   `json:"uploaded_by"` // email; null when not known
	// UsedBy is the workers whose settings name this version, by id.
	UsedBy []functionUserJSON `json:"used_by"`
}

type functionUserJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// functionUpload documents the multipart form of an upload.
type functionUpload struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	File    []byte `json:"file"`
}

func (s *Server) toFunctionJSON(f apiserver.Function, users []mysql.FunctionUser) functionJSON {
	out := functionJSON{Name: f.Name, Version: f.Version, SHA256: f.SHA256, SizeBytes: f.SizeBytes, CreatedAt: f.CreatedAt.UTC(),
		ArtifactURL: s.artifactURL(f.Name, f.Version), UsedBy: make([]functionUserJSON, len(users))}
	if f.UploadedBy != "" {
		out.UploadedBy = &f.UploadedBy
	}
	for i, u := range users {
		out.UsedBy[i] = functionUserJSON{u.ID, u.Name}
	}
	return out
}

// functionsJSON is fs with the workers that use each.
func (s *Server) functionsJSON(ctx context.Context, fs []apiserver.Function) ([]functionJSON, error) {
	users, err := s.db.FunctionUsers(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]functionJSON, len(fs))
	for i, f := range fs {
		out[i] = s.toFunctionJSON(f, users[mysql.FunctionKey(f.Name, f.Version)])
	}
	return out, nil
}

// artifactURL is where Nomad's artifact getter downloads a version from.
func (s *Server) artifactURL(name, version string) string {
	return s.cfg.PublicURL + "/artifacts/" + name + "/" + version
}

func (s *Server) artifactDir() string { return filepath.Join(s.cfg.DataDir, "artifacts") }

func (s *Server) mountFunctions(r *gin.Engine, v1 *gin.RouterGroup) {
	viewer, editor := s.require(apiserver.RoleViewer), s.require(apiserver.RoleEditor)
	v1.GET("/functions", viewer, s.listFunctions)
	v1.POST("/functions", editor, s.uploadFunction)
	v1.GET("/functions/:name", viewer, s.listFunctionVersions)
	v1.DELETE("/functions/:name/:version", editor, s.deleteFunction)
	// No token: Nomad's artifact getter cannot send one. The binary is
	// checked against its sha256 by the job, and names only what is
	// registered.
	r.GET("/artifacts/:name/:version", s.downloadArtifact)
	r.HEAD("/artifacts/:name/:version", s.downloadArtifact)
}

func (s *Server) listFunctions(c *gin.Context) {
	fs, err := s.db.Functions(c.Request.Context(), "")
	var out []functionJSON
	if err == nil {
		out, err = s.functionsJSON(c.Request.Context(), fs)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) listFunctionVersions(c *gin.Context) {
	fs, err := s.db.Functions(c.Request.Context(), c.Param("name"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if len(fs) == 0 {
		s.fail(c, apiserver.Errorf(apiserver.CodeNotFound, "no function named %q", c.Param("name")))
		return
	}
	out, err := s.functionsJSON(c.Request.Context(), fs)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// uploadFunction streams the multipart upload to a temporary file while
// hashing it, checks it is an executable, then moves it to its
// content-addressed name and records the version. Whatever fails, no row
// exists without its file and no temporary file stays behind.
func (s *Server) uploadFunction(c *gin.Context) {
	if mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type")); mt != "multipart/form-data" {
		s.fail(c, apiserver.FieldErrorf(apiserver.CodeBadRequest, "file",
			"send multipart/form-data with fields name, version and file, not %q", c.GetHeader("Content-Type")))
		return
	}
	if err := os.MkdirAll(s.artifactDir(), 0o750); err != nil {
		s.fail(c, err)
		return
	}
	up, err := s.receiveUpload(c)
	if up.tmp != "" {
		defer os.Remove(up.tmp) // renamed away on success
	}
	if err == nil {
		err = up.validate()
	}
	var f apiserver.Function
	if err == nil {
		f, err = s.publish(c.Request.Context(), up, actor(c))
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, s.toFunctionJSON(f, nil)) // new: no worker uses it yet
}

// publish moves a checked upload to its content-addressed name and records
// the version, under the file's lock: a concurrent delete of the last version
// with the same bytes cannot remove the file between the two steps.
func (s *Server) publish(ctx context.Context, up upload, by *int64) (apiserver.Function, error) {
	var f apiserver.Function
	err := s.db.LockFunctionFile(ctx, up.sha, func() error {
		dst := filepath.Join(s.artifactDir(), up.sha)
		if err := os.Rename(up.tmp, dst); err != nil {
			return err
		}
		var err error
		f, err = s.db.InsertFunction(ctx, apiserver.Function{Name: up.name, Version: up.version,
			SHA256: up.sha, SizeBytes: up.size}, by)
		if err != nil {
			if used, uerr := s.db.FunctionFileUsed(ctx, up.sha); uerr == nil && !used {
				os.Remove(dst) // the same bytes under another version keep their file
			}
		}
		return err
	})
	return f, err
}

type upload struct {
	name, version, tmp, sha string
	size                    int64
	sawFile                 bool
}

func (s *Server) receiveUpload(c *gin.Context) (upload, error) {
	var up upload
	limit := s.cfg.MaxUploadBytes
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit+64<<10) // the form's own bytes
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return up, apiserver.FieldErrorf(apiserver.CodeBadRequest, "file", "not a multipart body: %v", err)
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return up, nil
		}
		if err != nil {
			return up, uploadError(err, limit)
		}
		switch part.FormName() {
		case "name", "version":
			b, err := io.ReadAll(io.LimitReader(part, 256))
			if err != nil {
				return up, uploadError(err, limit)
			}
			if part.FormName() == "name" {
				up.name = string(b)
			} else {
				up.version = string(b)
			}
		case "file":
			if up.sawFile {
				return up, apiserver.FieldErrorf(apiserver.CodeInvalid, "file", "send exactly one file")
			}
			up.sawFile = true
			if err := s.precheck(c.Request.Context(), up); err != nil {
				return up, err
			}
			if err := up.store(part, s.artifactDir(), limit); err != nil {
				return up, err
			}
		default:
			return up, apiserver.FieldErrorf(apiserver.CodeBadRequest, part.FormName(), "is not a known field (name, version, file)")
		}
	}
}

func (up *upload) store(r io.Reader, dir string, limit int64) error {
	f, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return err
	}
	up.tmp = f.Name()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return uploadError(err, limit)
	}
	if n > limit {
		return apiserver.FieldErrorf(apiserver.CodeTooLarge, "file", "exceeds %d bytes", limit)
	}
	up.size, up.sha = n, hex.EncodeToString(h.Sum(nil))
	return nil
}

func uploadError(err error, limit int64) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return apiserver.FieldErrorf(apiserver.CodeTooLarge, "file", "exceeds %d bytes", limit)
	}
	return apiserver.FieldErrorf(apiserver.CodeBadRequest, "file", "could not read the upload: %v", err)
}

// precheck refuses, before a byte of the file is written, a name or version
// sent ahead of the file that is invalid or already taken.
func (s *Server) precheck(ctx context.Context, up upload) error {
	if up.name == "" || up.version == "" {
		return nil // sent after the file, or missing: validate reports it
	}
	if err := up.validateNames(); err != nil {
		return err
	}
	_, err := s.db.Function(ctx, up.name, up.version)
	switch {
	case err == nil:
		return apiserver.FieldErrorf(apiserver.CodeConflict, "version", "%s %s exists already; versions are immutable, upload a new one", up.name, up.version)
	case apiserver.ErrorCode(err) == apiserver.CodeNotFound:
		return nil
	default:
		return err
	}
}

func (up upload) validateNames() error {
	switch {
	case up.name == "":
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "name", "is required")
	case !functionName.MatchString(up.name):
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "name", "must be 1 to 64 lower-case letters, digits and '-', starting with a letter or digit")
	case up.version == "":
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "version", "is required")
	case !functionVersion.MatchString(up.version):
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "version", "must be 1 to 64 letters, digits and '.', '_', '+', '-', starting with a letter or digit")
	}
	return nil
}

func (up upload) validate() error {
	if err := up.validateNames(); err != nil {
		return err
	}
	if !up.sawFile {
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "file", "is required")
	}
	return checkExecutable(up.tmp)
}

// checkExecutable refuses anything but a Linux ELF executable for x86-64 or
// arm64, the platforms Nomad clients run workers on.
func checkExecutable(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "file", "not an ELF executable: build it with GOOS=linux")
	}
	defer f.Close()
	switch {
	case f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN:
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "file", "not an ELF executable: an ELF %s", f.Type)
	case f.Type == elf.ET_DYN && f.Entry == 0:
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "file", "not an ELF executable: a shared library without an entry point")
	case f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX:
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "file", "ELF for %s, not Linux", f.OSABI)
	case f.Class != elf.ELFCLASS64 || (f.Machine != elf.EM_X86_64 && f.Machine != elf.EM_AARCH64):
		return apiserver.FieldErrorf(apiserver.CodeInvalid, "file", "ELF for %s (%s), not x86-64 or arm64", f.Machine, f.Class)
	}
	return nil
}

// deleteFunction removes a version no worker uses, and its file when no
// other version has the same bytes, under the file's lock (see publish).
func (s *Server) deleteFunction(c *gin.Context) {
	ctx, name, version := c.Request.Context(), c.Param("name"), c.Param("version")
	fn, err := s.db.Function(ctx, name, version)
	if err == nil {
		err = s.db.LockFunctionFile(ctx, fn.SHA256, func() error {
			sha, shared, err := s.db.DeleteFunction(ctx, name, version)
			if err == nil && !shared && sha == fn.SHA256 && hexSHA256.MatchString(sha) {
				s.removeArtifact(sha)
			}
			return err
		})
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) removeArtifact(sha string) {
	if err := os.Remove(filepath.Join(s.artifactDir(), sha)); err != nil && !os.IsNotExist(err) {
		s.log.Warn("could not remove artifact file", "sha256", sha, "error", err.Error())
	}
}

// downloadArtifact serves a version's binary. The path is built from the
// sha256 recorded in MySQL, never from the request.
func (s *Server) downloadArtifact(c *gin.Context) {
	fn, err := s.db.Function(c.Request.Context(), c.Param("name"), c.Param("version"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if !hexSHA256.MatchString(fn.SHA256) {
		s.fail(c, fmt.Errorf("function %s %s has a malformed sha256", fn.Name, fn.Version))
		return
	}
	f, err := os.Open(filepath.Join(s.artifactDir(), fn.SHA256))
	if err != nil {
		s.fail(c, fmt.Errorf("artifact file of %s %s: %w", fn.Name, fn.Version, err))
		return
	}
	defer f.Close()
	c.Header("Content-Type", "application/octet-stream")
	c.Header("ETag", `"`+fn.SHA256+`"`)
	c.Header("Cache-Control", "public, max-age=31536000, immutable") // a version never changes
	http.ServeContent(c.Writer, c.Request, "", fn.CreatedAt, f)
}
