package httpapi

import (
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
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
	// MetadataSchema is the JSON Schema its workers' metadata is checked
	// against at save; absent when the upload declared none.
	MetadataSchema json.RawMessage `json:"metadata_schema,omitempty"`
	// Kind is go (a Linux executable), python (a .py module) or
	// python-archive (a .tar.gz with main.py).
	Kind string `json:"kind"`
}

type functionUserJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// functionUpload documents the multipart form of an upload.
type functionUpload struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// File is a Linux executable, a .py module (its file name ends in
	// .py), or a .tar.gz with main.py and its .py files.
	File []byte `json:"file"`
	// Describe is optional: the binary's -describe output, whose
	// metadata_schema checks workers' metadata at save. The server does not
	// run uploaded binaries to learn it.
	Describe string `json:"describe,omitempty"`
}

// toFunctionJSON is f with its users, and its artifact URL under base (the
// installation's, as jobs have it).
func toFunctionJSON(f apiserver.Function, users []mysql.FunctionUser, base string) functionJSON {
	out := functionJSON{Name: f.Name, Version: f.Version, SHA256: f.SHA256, SizeBytes: f.SizeBytes, CreatedAt: f.CreatedAt.UTC(),
		ArtifactURL: mysql.ArtifactURL(base, f.Name, f.Version), UsedBy: make([]functionUserJSON, len(users)), MetadataSchema: f.MetadataSchema, Kind: f.Kind}
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
	base, err := s.db.ArtifactBaseURL(ctx, s.cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	out := make([]functionJSON, len(fs))
	for i, f := range fs {
		out[i] = toFunctionJSON(f, users[mysql.FunctionKey(f.Name, f.Version)], base)
	}
	return out, nil
}

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

// uploadFunction streams the multipart upload into the database while
// hashing it, checks it is an executable or Python code, then names the stored binary by
// its sha256 and records the version. Whatever fails, no version exists
// without its binary and no staged chunk stays behind.
func (s *Server) uploadFunction(c *gin.Context) {
	if mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type")); mt != "multipart/form-data" {
		s.fail(c, apiserver.FieldErrorf(apiserver.CodeBadRequest, "file",
			"send multipart/form-data with fields name, version and file, not %q", c.GetHeader("Content-Type")))
		return
	}
	ctx := c.Request.Context()
	up, err := s.receiveUpload(c)
	if err == nil {
		up.kind, err = up.validate(s.db.ArtifactReader(ctx, up.staged), s.cfg.MaxUploadBytes)
	}
	var f apiserver.Function
	if err == nil {
		f, err = s.publish(ctx, up, actor(c))
	}
	if up.staged.ID != 0 {
		s.db.DiscardArtifact(ctx, up.staged.ID) // no-op once named
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	out, err := s.functionsJSON(ctx, []apiserver.Function{f})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, out[0])
}

// publish names a checked upload's binary by its sha256 and records the
// version, under the binary's lock: a concurrent delete of the last
// version with the same bytes cannot delete the binary between the two
// steps.
func (s *Server) publish(ctx context.Context, up upload, by *int64) (apiserver.Function, error) {
	var f apiserver.Function
	sha := up.staged.SHA256
	err := s.db.LockFunctionFile(ctx, sha, func() error {
		if err := s.db.NameArtifact(ctx, up.staged); err != nil {
			return err
		}
		var err error
		f, err = s.db.InsertFunction(ctx, apiserver.Function{Name: up.name, Version: up.version,
			SHA256: sha, SizeBytes: up.staged.Size, MetadataSchema: up.schema, Kind: up.kind}, by)
		if err != nil {
			if used, uerr := s.db.FunctionFileUsed(ctx, sha); uerr == nil && !used {
				// The same bytes under another version keep theirs.
				if derr := s.db.DeleteArtifact(ctx, sha); derr != nil {
					s.log.Warn("could not delete an unused artifact", "sha256", sha, "error", derr.Error())
				}
			}
		}
		return err
	})
	return f, err
}

type upload struct {
	name, version string
	staged        mysql.Artifact // ID 0 until the file part was stored
	sawFile       bool
	filename      string          // the file part's, which tells a .py module
	kind          string          // set by validate
	schema        json.RawMessage // from the describe part
}

// maxDescribeBytes bounds the describe part of an upload.
const maxDescribeBytes = 64 << 10

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
		case "describe":
			b, err := io.ReadAll(io.LimitReader(part, maxDescribeBytes+1))
			if err != nil {
				return up, uploadError(err, limit)
			}
			if len(b) > maxDescribeBytes {
				return up, apiserver.FieldErrorf(apiserver.CodeTooLarge, "describe", "exceeds %d bytes", maxDescribeBytes)
			}
			if up.schema, err = apiserver.ParseDescribe(b); err != nil {
				return up, err
			}
		case "file":
			if up.sawFile {
				return up, apiserver.FieldErrorf(apiserver.CodeInvalid, "file", "send exactly one file")
			}
			up.sawFile, up.filename = true, part.FileName()
			if err := s.precheck(c.Request.Context(), up); err != nil {
				return up, err
			}
			if err := s.store(c.Request.Context(), &up, part, limit); err != nil {
				return up, err
			}
		default:
			return up, apiserver.FieldErrorf(apiserver.CodeBadRequest, part.FormName(), "is not a known field (name, version, file, describe)")
		}
	}
}

// store streams the file part into staged chunks in the database; the
// caller discards them unless they get named.
func (s *Server) store(ctx context.Context, up *upload, r io.Reader, limit int64) error {
	staged, err := s.db.StageArtifact(ctx, io.LimitReader(r, limit+1))
	if errors.Is(err, mysql.ErrUploadRead) {
		return uploadError(err, limit)
	}
	if err != nil {
		return err
	}
	up.staged = staged
	if staged.Size > limit {
		return apiserver.FieldErrorf(apiserver.CodeTooLarge, "file", "exceeds %d bytes", limit)
	}
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

// validate checks the names and the stored file, read through bin, and
// returns the file's kind (checkArtifact).
func (up upload) validate(bin *mysql.ArtifactReader, limit int64) (string, error) {
	if err := up.validateNames(); err != nil {
		return "", err
	}
	if !up.sawFile {
		return "", apiserver.FieldErrorf(apiserver.CodeInvalid, "file", "is required")
	}
	return checkArtifact(up.filename, io.NewSectionReader(bin, 0, bin.Size()), limit)
}

// checkExecutable refuses anything but a Linux ELF executable for x86-64 or
// arm64, the platforms Nomad clients run workers on.
func checkExecutable(bin io.ReaderAt) error {
	f, err := elf.NewFile(bin)
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

// deleteFunction removes a version no worker uses, and its binary when no
// other version has the same bytes, under the binary's lock (see publish).
func (s *Server) deleteFunction(c *gin.Context) {
	ctx, name, version := c.Request.Context(), c.Param("name"), c.Param("version")
	fn, err := s.db.Function(ctx, name, version)
	if err == nil {
		err = s.db.LockFunctionFile(ctx, fn.SHA256, func() error {
			sha, shared, err := s.db.DeleteFunction(ctx, name, version)
			if err == nil && !shared && sha == fn.SHA256 {
				err = s.db.DeleteArtifact(ctx, sha)
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

// downloadArtifact serves a version's binary from the database, a chunk at
// a time, with the Range, If-Range, ETag and Content-Length handling of
// http.ServeContent that Nomad's artifact getter relies on to resume.
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
	bin, err := s.db.OpenArtifact(c.Request.Context(), fn.SHA256)
	if err != nil {
		s.fail(c, fmt.Errorf("binary of %s %s: %w", fn.Name, fn.Version, err))
		return
	}
	c.Header("Content-Type", "application/octet-stream")
	c.Header("ETag", `"`+fn.SHA256+`"`)
	c.Header("Cache-Control", "public, max-age=31536000, immutable") // a version never changes
	http.ServeContent(c.Writer, c.Request, "", fn.CreatedAt, io.NewSectionReader(bin, 0, bin.Size()))
}
